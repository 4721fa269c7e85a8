import { BaseSequencer } from 'vitest/node';

/**
 * A vitest sequencer that starts the named files first, in the order given, and the rest in vitest's
 * own order. Vitest starts the files it remembers as slowest first, but a clean clone (CI) has no such
 * record and it falls back to file size: a long file that mostly waits (a demo's timers, a browser's
 * page loads) could start last and run alone at the end. Projects and their group order stay as
 * vitest sorted them; only files of one project are reordered.
 *
 * @param {readonly string[]} first paths relative to the project's root, the longest first
 */
export function longestFirst(first) {
  return class LongestFirst extends BaseSequencer {
    /** @param {import('vitest/node').TestSpecification[]} files */
    async sort(files) {
      const sorted = await super.sort(files);
      /** @param {import('vitest/node').TestSpecification} spec */
      const rank = (spec) => {
        const i = first.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
        return i < 0 ? first.length : i;
      };
      // a file's project keeps the place vitest gave it; Array.prototype.sort is stable, so files not
      // named keep vitest's order too
      const projects = [...new Set(sorted.map((spec) => spec.project.name))];
      /** @param {import('vitest/node').TestSpecification} spec */
      const place = (spec) => projects.indexOf(spec.project.name);
      return sorted.sort((a, b) => place(a) - place(b) || rank(a) - rank(b));
    }
  };
}
