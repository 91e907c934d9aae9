import { bootstrapService } from '@clearline/service-runtime';
import { AppModule } from './app.module.js';

await bootstrapService(AppModule);
