import { Inject, Injectable } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE, ProblemException, SERVICE_CONFIG, type ServiceConfig } from '@clearline/service-runtime';

const READ_TIMEOUT_MS = 3_000;
/** The gateway serves the reads under /v1: analytics builds its links (next pages) under it. */
const FORWARDED_PREFIX = '/v1';

export interface ReadResult {
  status: number;
  contentType: string;
  body: string;
}

/** Reads from the analytics query API, which owns the read models; its errors pass through as they are. */
@Injectable()
export class ReadModelClient {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {}

  /** GET `path` with the query parameters that are defined (they were validated at the edge). */
  async get(path: string, correlationId: string, query: Record<string, string | number | undefined> = {}): Promise<ReadResult> {
    const url = new URL(path, this.config.analyticsUrl);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: `application/json, ${PROBLEM_CONTENT_TYPE}`, 'x-correlation-id': correlationId, 'x-forwarded-prefix': FORWARDED_PREFIX },
        signal: AbortSignal.timeout(READ_TIMEOUT_MS),
      });
    } catch {
      throw new ProblemException(503, 'read-model-unavailable', 'Read model unavailable', 'The analytics service did not answer; retry shortly.');
    }
    return { status: response.status, contentType: response.headers.get('content-type') ?? 'application/json', body: await response.text() };
  }
}
