// The fleet: many images against golden baselines, on BullMQ workers or on this machine.

export { FleetError } from './errors';
export { collectImages, checkBaselines, IMAGE_EXTENSIONS, type NamedImage } from './inputs';
export { parsePathMap, pathMapper, type PathMapping } from './path-map';
export { ResultsFolder } from './results';
export { runFleetInProcess, type FleetRunProgress } from './in-process';
export { buildFleetReport } from './report';
export { fleetReportFromResults } from './from-results';
export { fleetReportHtml } from './report-html';
export { fleetCsvZip } from './report-csv';
export { maskRedisUrl, PASSWORD_ENV } from './redis';
export * from '../common/fleet';
