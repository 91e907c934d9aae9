import type { ServiceAppOptions } from '@clearline/service-runtime';
import { refuseDeeplyNestedJson } from './json-depth.middleware.js';
import { serveOpenApiDocument } from './openapi.js';
import { PaymentFeedWebSocket } from './payment-feed.websocket.js';
import { securityHeaders } from './security-headers.middleware.js';

/**
 * How the gateway's app is made, in production and in its tests alike: bodies kept raw for the
 * signature check, security headers on every answer (the docs UI included), /docs served, the
 * payment feed's WebSocket upgrades taken on the same HTTP server.
 */
export const GATEWAY_APP_OPTIONS: ServiceAppOptions = {
  rawBody: true,
  configure: (app) => {
    app.use(securityHeaders);
    app.use(refuseDeeplyNestedJson);
    serveOpenApiDocument(app);
    app.get(PaymentFeedWebSocket).attach(app.getHttpServer());
  },
};
