export { Backend, type BackendOptions } from './backend';
export { defaultDataDirectory } from './data-dir';
export { RequestError } from './validate';
