export { diffResults } from './diff';
export { isEnumeratedName } from './identity';
