/**
 * What a browser bundle gets for `sasa/node` (package.json's "browser" export condition): an import of a
 * module that cannot exist, so the bundler stops with its name as the message. sasa/node is the native
 * backend and file IO, which need Node.js; in a browser use sasa/ops, sasa/layers and tfjs's own
 * backends and IO (http://, indexeddb://).
 */
// @ts-expect-error: deliberately unresolvable; the bundler's "could not resolve" error is the message.
import 'sasa/node is for Node.js only (native backend, file system); a browser bundle cannot include it';
