import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ProblemDocumentView } from './api-responses.js';
import { AppModule } from './app.module.js';
import { CORRELATION_HEADER } from './correlation.middleware.js';
import { SIGNATURE_SECURITY_SCHEME } from './object-ownership.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

export const OPENAPI_UI_PATH = 'docs';
export const OPENAPI_JSON_PATH = 'docs/openapi.json';

/**
 * The OpenAPI 3 document of the /v1 API, generated from the controllers, their DTOs and decorators,
 * so it cannot drift from the code. Health and metrics (ServiceRuntimeModule) are left out: they are
 * for operators, documented in docs/architecture.md.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Clearline gateway API')
    .setDescription([
      'The HTTP edge of Clearline for channels and analysts. Commands answer 202 and are decided asynchronously;',
      'reads come from the analytics read models and may lag the ledger by a moment.',
      'Amounts are strings of integer minor units with an ISO 4217 currency, never floats.',
      'Every error is an RFC 9457 problem document (application/problem+json) with a stable `type` URN.',
      `Every answer carries ${CORRELATION_HEADER}: the caller's, when sane, or a new one.`,
      'Every /v1 request is signed by a channel or analyst key (X-Clearline-Key-Id, X-Clearline-Timestamp, X-Clearline-Nonce, X-Clearline-Signature; docs/security.md);',
      "a channel sees only its own payments and accounts (another's is a 404, like a missing one); an analyst reads everything and sends no commands.",
    ].join(' '))
    .addSecurity(SIGNATURE_SECURITY_SCHEME, {
      type: 'apiKey',
      in: 'header',
      name: 'X-Clearline-Signature',
      description: 'Lower-case hex HMAC-SHA256, under the key\'s secret, of "CLEARLINE-HMAC-SHA256\\nMETHOD\\npath?query\\ntimestamp\\nnonce\\nhex SHA-256 of the body", sent with X-Clearline-Key-Id, X-Clearline-Timestamp (Unix seconds, within 300 s) and X-Clearline-Nonce (16-64 base64url characters, never reused).',
    })
    .setVersion('1')
    .addGlobalParameters({ name: CORRELATION_HEADER, in: 'header', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' } })
    .build();
  return SwaggerModule.createDocument(app, config, { include: [AppModule, WebhooksModule], extraModels: [ProblemDocumentView] });
}

/** Serves the document at GET /docs/openapi.json and a browsable UI at GET /docs. */
export function serveOpenApiDocument(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_UI_PATH, app, () => buildOpenApiDocument(app), { jsonDocumentUrl: OPENAPI_JSON_PATH, raw: ['json'] });
}
