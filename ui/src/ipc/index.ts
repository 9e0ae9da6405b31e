export { type Backend, BackendError, type Change } from "./backend";
export { BackendProvider, useBackend } from "./context";
