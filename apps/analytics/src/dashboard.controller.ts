import { applyDecorators, Controller, Get, Header } from '@nestjs/common';
import { CURRENCY_CODES, currencyOf } from '@clearline/money';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The analysts' dashboard (docs/analytics.md, "Dashboard"): one HTML page, a vanilla script and a
 * style sheet from apps/analytics/dashboard/, which draw the query API's answers (same origin) with
 * hand-made SVG. No build step: the assets are read from the source folder, found relative to this
 * module, which sits one level below the app folder both in src/ (tests) and in dist/ (the service).
 */

const ASSET_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboard');

/**
 * Only this origin's script and style run: no inline script, no eval, no inline style, no plugins,
 * no framing, no form posts; fetches go to this origin (the query API) only.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

function asset(name: string): string {
  return readFileSync(join(ASSET_DIRECTORY, name), 'utf8');
}

/** A dashboard response: its content type, the policy above, no sniffing, framing or referrer. */
function DashboardAsset(contentType: string): MethodDecorator {
  return applyDecorators(
    Header('content-type', contentType),
    Header('content-security-policy', DASHBOARD_CSP),
    Header('x-content-type-options', 'nosniff'),
    Header('x-frame-options', 'DENY'),
    Header('referrer-policy', 'no-referrer'),
    Header('cache-control', 'no-cache'),
  );
}

@Controller('dashboard')
export class DashboardController {
  // Read once at start-up: a missing asset stops the service at boot instead of failing a page later.
  private readonly page = asset('index.html');
  private readonly script = asset('dashboard.js');
  private readonly styles = asset('dashboard.css');
  private readonly icon = asset('icon.svg');
  /** ISO 4217 exponents from libs/money, so the page formats minor units with the same table the services use. */
  private readonly currencies = JSON.stringify(Object.fromEntries(CURRENCY_CODES.map((code) => [code, currencyOf(code).exponent])));

  @Get()
  @DashboardAsset('text/html; charset=utf-8')
  index(): string {
    return this.page;
  }

  @Get('assets/dashboard.js')
  @DashboardAsset('text/javascript; charset=utf-8')
  dashboardScript(): string {
    return this.script;
  }

  @Get('assets/dashboard.css')
  @DashboardAsset('text/css; charset=utf-8')
  dashboardStyles(): string {
    return this.styles;
  }

  @Get('assets/icon.svg')
  @DashboardAsset('image/svg+xml')
  dashboardIcon(): string {
    return this.icon;
  }

  @Get('assets/currencies.json')
  @DashboardAsset('application/json; charset=utf-8')
  currencyExponents(): string {
    return this.currencies;
  }
}
