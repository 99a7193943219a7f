@echo off
rem IRPscope's command line, as the Windows installer puts it: resources\bin\irpscope.cmd beside
rem IRPscope.exe. The app's own Electron runs the CLI as plain Node (ELECTRON_RUN_AS_NODE).
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\IRPscope.exe" "%~dp0..\app\bin\irpscope.mjs" %*
exit /b %ERRORLEVEL%
