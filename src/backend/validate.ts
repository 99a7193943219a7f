// Requests are decoded where they arrive (src/common/api-decode.ts) and the backend takes them as
// typed; what is left here is the refusal the backend's own modules throw for a request that
// decoded but cannot be served (no such session, capture or profile).

export { RequestError } from '../common/api-errors';
