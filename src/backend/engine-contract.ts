// The backend's view of the engine: the types the engine publishes for its session workers.
export type { EngineHandle, EngineOptions, OpenEngine } from '../core/engine-handle';
