/** Types of patch-helpers.mjs, for the tests that import it from TypeScript. */
export interface HelpersPatchStep {
  step: string;
  find: string;
  replace: string;
}
export declare const HELPERS_PATCH: readonly HelpersPatchStep[];
export declare function patchHelpers(source: string): string;
