import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ProblemDocumentView } from './api-responses.js';
import { AppModule } from './app.module.js';
import { CORRELATION_HEADER } from './correlation.middleware.js';

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
    ].join(' '))
    .setVersion('1')
    .addGlobalParameters({ name: CORRELATION_HEADER, in: 'header', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' } })
    .build();
  return SwaggerModule.createDocument(app, config, { include: [AppModule], extraModels: [ProblemDocumentView] });
}

/** Serves the document at GET /docs/openapi.json and a browsable UI at GET /docs. */
export function serveOpenApiDocument(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_UI_PATH, app, () => buildOpenApiDocument(app), { jsonDocumentUrl: OPENAPI_JSON_PATH, raw: ['json'] });
}
