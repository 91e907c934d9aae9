/**
 * The logging surface messaging needs. pino's Logger satisfies it structurally, so services pass
 * their pino instance; tests pass nothing and get silence.
 */
export interface Logger {
  error(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  debug(fields: object, message?: string): void;
  /** pino's child(); when absent, bindings are merged into every call's fields instead. */
  child?(bindings: Record<string, unknown>): Logger;
}

const ignore = (): void => undefined;

export const silentLogger: Logger = { error: ignore, warn: ignore, info: ignore, debug: ignore };

/** A logger whose every line carries `bindings` (message id, correlation id ...). */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  if (typeof logger.child === 'function') return logger.child(bindings);
  const merged = (write: (fields: object, message?: string) => void) => (fields: object, message?: string) =>
    write.call(logger, { ...bindings, ...fields }, message);
  return {
    error: merged(logger.error),
    warn: merged(logger.warn),
    info: merged(logger.info),
    debug: merged(logger.debug),
    child: (more) => childLogger(logger, { ...bindings, ...more }),
  };
}

/**
 * A child logger that is built on its first line: most messages are never logged about, and a pino
 * child serialises its bindings when it is created (about 4 µs), which a consumer would otherwise
 * pay for every message it handles.
 */
export function lazyChildLogger(logger: Logger, bindings: () => Record<string, unknown>): Logger {
  return new LazyChildLogger(logger, bindings);
}

class LazyChildLogger implements Logger {
  private built: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: () => Record<string, unknown>,
  ) {}

  error(fields: object, message?: string): void {
    this.logger().error(fields, message);
  }

  warn(fields: object, message?: string): void {
    this.logger().warn(fields, message);
  }

  info(fields: object, message?: string): void {
    this.logger().info(fields, message);
  }

  debug(fields: object, message?: string): void {
    this.logger().debug(fields, message);
  }

  child(bindings: Record<string, unknown>): Logger {
    return childLogger(this.logger(), bindings);
  }

  private logger(): Logger {
    this.built ??= childLogger(this.parent, this.bindings());
    return this.built;
  }
}
