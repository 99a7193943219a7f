// What a capture reports while it runs and when it is done: the API contract's shapes.

export type {
  CaptureProgress,
  CaptureResult,
  CaptureSource,
  CaptureToolKind,
  CaptureToolStatus,
  CaptureToolVm,
  QemuVm,
  QmpSocketProbe,
} from '../../../common/api';
