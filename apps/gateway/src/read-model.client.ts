import { Inject, Injectable } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE, ProblemException, SERVICE_CONFIG, type ServiceConfig } from '@clearline/service-runtime';

const READ_TIMEOUT_MS = 3_000;

export interface ReadResult {
  status: number;
  contentType: string;
  body: string;
}

/** Reads from the analytics query API, which owns the read models; its errors pass through as they are. */
@Injectable()
export class ReadModelClient {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {}

  async get(path: string, correlationId: string): Promise<ReadResult> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.config.analyticsUrl), {
        headers: { accept: `application/json, ${PROBLEM_CONTENT_TYPE}`, 'x-correlation-id': correlationId },
        signal: AbortSignal.timeout(READ_TIMEOUT_MS),
      });
    } catch {
      throw new ProblemException(503, 'read-model-unavailable', 'Read model unavailable', 'The analytics service did not answer; retry shortly.');
    }
    return { status: response.status, contentType: response.headers.get('content-type') ?? 'application/json', body: await response.text() };
  }
}
