import { bootstrapService } from '@clearline/service-runtime';
import { AppModule } from './app.module.js';
import { serveOpenApiDocument } from './openapi.js';

await bootstrapService(AppModule, { configure: serveOpenApiDocument });
