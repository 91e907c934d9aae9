import { bootstrapService } from '@clearline/service-runtime';
import { AppModule } from './app.module.js';
import { GATEWAY_APP_OPTIONS } from './gateway-app.js';

await bootstrapService(AppModule, GATEWAY_APP_OPTIONS);
