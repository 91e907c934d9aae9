import 'reflect-metadata';
import { ValidationPipe, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ServiceConfig } from './config.js';
import type { Logger } from './logger.js';
import { NestPinoLogger } from './nest-logger.js';
import { ProblemDetailsFilter } from './problem-details.js';
import { LOGGER, SERVICE_CONFIG } from './tokens.js';

export interface ServiceAppOptions {
  /**
   * Runs once the app is configured and before it listens: for what only one service serves (the
   * gateway's OpenAPI document), so the common setup stays in one place.
   */
  configure?: (app: NestExpressApplication) => void | Promise<void>;
  /**
   * Keep each JSON body's bytes as `request.rawBody`: the gateway verifies request signatures over
   * the body exactly as sent, which re-serialising the parsed JSON could not reproduce.
   */
  rawBody?: boolean;
}

/**
 * Creates a Clearline service's app without listening: JSON logs, strict validation (unknown fields
 * rejected, no mass assignment), problem+json errors, graceful shutdown on SIGTERM/SIGINT. Tests
 * use it to run a service exactly as it runs in production, on a port of their choice.
 */
export async function createServiceApp(rootModule: Type<unknown>, options: ServiceAppOptions = {}): Promise<NestExpressApplication> {
  // The JSON body parser is registered below with a size bound, so Nest's default one is off.
  const app = await NestFactory.create<NestExpressApplication>(rootModule, { bufferLogs: true, bodyParser: false, rawBody: options.rawBody ?? false });
  const logger = app.get<Logger>(LOGGER);
  app.useLogger(new NestPinoLogger(logger));
  app.useGlobalFilters(new ProblemDetailsFilter(logger));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }));
  app.useBodyParser('json', { limit: '64kb' });
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  await options.configure?.(app);
  return app;
}

/** Starts a Clearline service (see {@link createServiceApp}) on its configured host and port. */
export async function bootstrapService(rootModule: Type<unknown>, options: ServiceAppOptions = {}): Promise<INestApplication> {
  const app = await createServiceApp(rootModule, options);
  const config = app.get<ServiceConfig>(SERVICE_CONFIG);
  const logger = app.get<Logger>(LOGGER);
  await app.listen(config.port, config.host);
  logger.info({ port: config.port, host: config.host, node: process.version }, `${config.service} is listening`);
  return app;
}
