/** Types of gen-api-types.mjs for the TypeScript test that compares the committed files with a fresh generation. */
export declare const OUTPUTS: readonly string[];
export declare function fetchOpenApiDocument(): Promise<Record<string, unknown>>;
export declare function typesFromDocument(doc: Record<string, unknown>): Promise<string>;
export declare function generateApiTypes(): Promise<string>;
