import 'reflect-metadata';
import { ValidationPipe, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ServiceConfig } from './config.js';
import type { Logger } from './logger.js';
import { NestPinoLogger } from './nest-logger.js';
import { ProblemDetailsFilter } from './problem-details.js';
import { LOGGER, SERVICE_CONFIG } from './tokens.js';

/**
 * Starts a Clearline service: JSON logs, strict validation (unknown fields rejected, no mass
 * assignment), problem+json errors, graceful shutdown on SIGTERM/SIGINT, and the HTTP port.
 */
export async function bootstrapService(rootModule: Type<unknown>): Promise<INestApplication> {
  // The JSON body parser is registered below with a size bound, so Nest's default one is off.
  const app = await NestFactory.create<NestExpressApplication>(rootModule, { bufferLogs: true, bodyParser: false });
  const config = app.get<ServiceConfig>(SERVICE_CONFIG);
  const logger = app.get<Logger>(LOGGER);
  app.useLogger(new NestPinoLogger(logger));
  app.useGlobalFilters(new ProblemDetailsFilter(logger));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }));
  app.useBodyParser('json', { limit: '64kb' });
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  logger.info({ port: config.port, host: config.host, node: process.version }, `${config.service} is listening`);
  return app;
}
