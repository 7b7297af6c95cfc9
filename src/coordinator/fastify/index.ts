/** @module coordinator/fastify: the coordinator's Fastify plugin, route helpers and proxy building blocks. */
export { coordinatorPlugin, type Coordinator, type CoordinatorPluginOptions } from './plugin.js';
export { lookupAndProxy, type LookupAndProxyOptions, type LookupAndProxyResult } from './lookup-and-proxy.js';
export { pickAndRegister, MAX_REGISTER_BODY_BYTES, type PickAndRegisterOptions, type PickAndRegisterResult } from './pick-and-register.js';
export { lookupAndDeregister, type LookupAndDeregisterOptions, type LookupAndDeregisterResult } from './lookup-and-deregister.js';
export { lookupLockAndProxy, type LookupLockAndProxyOptions, type LookupLockAndProxyResult } from './lookup-lock-and-proxy.js';
export { proxyVia, type ProxyResolver, type ProxyTarget, type ProxyViaOptions } from './proxy-via.js';
export { proxyRequest, streamReply, type ProxyRequestOptions, type ProxyResponse } from './proxy-request.js';
export { DEFAULT_FORWARD_HEADERS } from './upstream-headers.js';
export type { IdExtractor } from './route-kit.js';
export type { CoordinatorRegistry, DestinationResolution, MemberTarget } from './coordinator-registry.js';
