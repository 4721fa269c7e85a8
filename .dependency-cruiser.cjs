// The backend's architecture, enforced (npm run lint, and test/architecture.test.ts): layers depend only
// downwards - core <- ports <- contexts <- http <- composition (app.ts) <- hosts - adapters are wired by
// hosts only, contexts meet only through each other's index.ts, and nothing imports in a circle.
// docs/architecture.md draws the map.
const SRC = '^functions/src/';
const CONTEXTS = '(admin|alerts|audit|catalog|commands|console|devices|enrollment|fleet-view|observability|policies|retention|rollouts)';
const TESTS = '\\.test\\.ts$|^functions/test/';

/* global module */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: the modules on it cannot be understood, tested or moved one at a time.',
      from: { path: SRC },
      to: { circular: true },
    },
    {
      name: 'core-is-the-bottom',
      severity: 'error',
      comment: 'core/ (actors, roles, errors, cursors, clock, route declarations) depends on nothing else of ours.',
      from: { path: `${SRC}core/`, pathNot: TESTS },
      to: { path: SRC, pathNot: `${SRC}core/` },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      comment: 'ports/ declare what the domain needs from the world; they depend on core/ only.',
      from: { path: `${SRC}ports/`, pathNot: TESTS },
      to: { path: SRC, pathNot: `${SRC}(core|ports)/` },
    },
    {
      name: 'adapters-implement-ports',
      severity: 'error',
      comment: 'An adapter implements a port with one technology; it knows no context, router or host.',
      from: { path: `${SRC}adapters/`, pathNot: TESTS },
      to: { path: SRC, pathNot: `${SRC}(core|ports|adapters)/` },
    },
    {
      name: 'contexts-stay-below-the-web',
      severity: 'error',
      comment: 'A context depends on core/, ports/ and other contexts; never on http/, config/, adapters/ or a host.',
      from: { path: `${SRC}${CONTEXTS}/`, pathNot: TESTS },
      to: { path: `${SRC}(http|config|adapters|standalone|firebase|scripts)/|${SRC}(app|index)\\.ts$` },
    },
    {
      name: 'contexts-meet-through-index',
      severity: 'error',
      comment: 'Another context is reached only through its public surface, its index.ts.',
      from: { path: `${SRC}${CONTEXTS}/`, pathNot: TESTS },
      to: { path: `${SRC}${CONTEXTS}/`, pathNot: [`${SRC}$1/`, `${SRC}${CONTEXTS}/index\\.ts$`] },
    },
    {
      name: 'outsiders-use-the-index',
      severity: 'error',
      comment: 'http/, the composition root and the hosts reach a context through its index.ts too.',
      from: { path: `${SRC}(http/|app\\.ts$|standalone/|firebase/|scripts/|index\\.ts$)`, pathNot: TESTS },
      to: { path: `${SRC}${CONTEXTS}/`, pathNot: `${SRC}${CONTEXTS}/index\\.ts$` },
    },
    {
      name: 'http-is-an-adapter-of-the-web',
      severity: 'error',
      comment: 'http/ (router, route table, body reading, security headers) uses ports, never their adapters or the hosts.',
      from: { path: `${SRC}http/`, pathNot: TESTS },
      to: { path: `${SRC}(adapters|config|standalone|firebase|scripts)/|${SRC}(app|index)\\.ts$` },
    },
    {
      name: 'adapters-are-wired-by-hosts',
      severity: 'error',
      comment: 'The composition root takes its adapters from the host; only hosts build them.',
      from: { path: `${SRC}app\\.ts$` },
      to: { path: `${SRC}(adapters|standalone|firebase|scripts)/` },
    },
    {
      name: 'hosts-do-not-know-each-other',
      severity: 'error',
      comment: 'The standalone host and the Firebase host share the composition root, not each other.',
      from: { path: `${SRC}standalone/` },
      to: { path: `${SRC}firebase/|${SRC}index\\.ts$` },
    },
    {
      name: 'simulator-is-a-device-not-the-server',
      severity: 'error',
      comment: 'The simulator speaks the device protocol over HTTP like a real agent; it never imports the backend.',
      from: { path: '^tools/src/sim/' },
      to: { path: '^functions/' },
    },
    {
      name: 'tools-enter-through-the-typed-entry',
      severity: 'error',
      comment: 'Benches and tools load the backend through its exported in-process entry, never by deep path.',
      from: { path: '^tools/src/' },
      to: { path: '^(functions/|@fleet-mdm/functions)', pathNot: '^(@fleet-mdm/functions/in-process|functions/src/in-process\\.ts)$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(lib|build|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
  },
};
