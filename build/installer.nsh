; The Windows installer's additions (electron-builder includes this file into its NSIS script).
; electron-builder registers the six memory-image extensions of electron-builder.yml (win.
; fileAssociations) as opened by IRPscope, under the ProgID IRPscope.MemoryImage. Raw images and
; ELF cores share .raw and .elf with much else, so IRPscope only joins their Open With list
; (OpenWithProgids), leaving whatever opens them by default alone.

!macro customInstall
  WriteRegNone SHELL_CONTEXT "Software\Classes\.raw\OpenWithProgids" "IRPscope.MemoryImage"
  WriteRegNone SHELL_CONTEXT "Software\Classes\.elf\OpenWithProgids" "IRPscope.MemoryImage"
!macroend

!macro customUnInstall
  DeleteRegValue SHELL_CONTEXT "Software\Classes\.raw\OpenWithProgids" "IRPscope.MemoryImage"
  DeleteRegValue SHELL_CONTEXT "Software\Classes\.elf\OpenWithProgids" "IRPscope.MemoryImage"
!macroend
