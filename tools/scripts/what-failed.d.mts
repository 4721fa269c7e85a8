/** Types of what-failed.mjs for its TypeScript test. */
export declare function whatFailed(output: string): string;
