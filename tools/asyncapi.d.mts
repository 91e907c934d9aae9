// Types of tools/asyncapi.mjs for the TypeScript spec that checks docs/asyncapi.yaml does not drift.
export declare const ASYNCAPI_DOCUMENT_PATH: string;
export declare const ASYNCAPI_REGENERATE_COMMAND: string;
export declare function asyncApiDocument(): Record<string, unknown>;
export declare function renderAsyncApi(): string;
export declare function toYaml(value: unknown): string;
