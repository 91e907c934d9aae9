import type { ServiceAppOptions } from '@clearline/service-runtime';
import { serveOpenApiDocument } from './openapi.js';
import { securityHeaders } from './security-headers.middleware.js';

/**
 * How the gateway's app is made, in production and in its tests alike: bodies kept raw for the
 * signature check, security headers on every answer (the docs UI included), /docs served.
 */
export const GATEWAY_APP_OPTIONS: ServiceAppOptions = {
  rawBody: true,
  configure: (app) => {
    app.use(securityHeaders);
    serveOpenApiDocument(app);
  },
};
