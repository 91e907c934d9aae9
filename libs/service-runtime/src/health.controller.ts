import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Registry } from 'prom-client';
import { ReadinessRegistry } from './readiness.js';
import { SERVICE_CONFIG } from './tokens.js';
import type { ServiceConfig } from './config.js';

/** Liveness, readiness and Prometheus metrics, the same on every service. */
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessRegistry,
    private readonly metrics: Registry,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get('health/live')
  @HttpCode(200)
  live(): { status: 'ok'; service: string } {
    return { status: 'ok', service: this.config.service };
  }

  @Get('health/ready')
  async ready(@Res() response: Response): Promise<void> {
    const report = await this.readiness.report();
    response.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not_ready', service: this.config.service, ...report });
  }

  @Get('metrics')
  async metricsText(@Res() response: Response): Promise<void> {
    response.setHeader('content-type', this.metrics.contentType);
    response.send(await this.metrics.metrics());
  }
}
