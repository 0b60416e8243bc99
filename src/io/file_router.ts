/**
 * The `file://` scheme for tfjs's IO registry, as tfjs-node has it: `model.save('file://DIR')` writes
 * DIR/model.json + DIR/weights.bin (model_files.ts: atomically), and `tf.loadLayersModel('file://DIR/model.json')`
 * (or 'file://DIR') reads them back. What follows `file://` is a file-system path, relative to the
 * working directory unless absolute ('file:///abs/dir').
 */
import * as tf from '../tf.js';
import { fileLoadHandler, fileSaveHandler } from './model_files.js';

/** The URL scheme the router answers. */
export const FILE_SCHEME = 'file://';

/** tfjs's IORouter type (not exported by tfjs-core). */
type Router = Parameters<typeof tf.io.registerSaveRouter>[0];

/** The path of a `file://` URL, or null for anything else (other schemes, arrays of URLs). */
function pathOf(url: string | string[]): string | null {
  if (typeof url !== 'string' || !url.startsWith(FILE_SCHEME)) return null;
  const path = url.slice(FILE_SCHEME.length);
  if (path === '') throw new Error(`'${url}': no path after ${FILE_SCHEME}`);
  return path;
}

function saveRouter(url: string | string[]): tf.io.IOHandler | null {
  const path = pathOf(url);
  if (path === null) return null;
  if (path.endsWith('.json')) {
    throw new Error(`'${url}': model.save takes a directory (it writes model.json and weights.bin there)`);
  }
  return fileSaveHandler(path);
}

function loadRouter(url: string | string[]): tf.io.IOHandler | null {
  const path = pathOf(url);
  return path === null ? null : fileLoadHandler(path);
}

/** Whether some router (ours, or tfjs-node's) already answers `file://`. */
function fileSchemeHandled(): boolean {
  const probe = `${FILE_SCHEME}probe`;
  return tf.io.getSaveHandlers(probe).length > 0 || tf.io.getLoadHandlers(probe).length > 0;
}

/**
 * Registers the `file://` save and load routers with tfjs's IO registry, once; does nothing when a
 * router for `file://` is already there (an earlier call, or tfjs-node loaded in the same process,
 * whose handlers write the same files). `sasa/node` calls it on import.
 * @returns whether this call registered the routers.
 */
export function registerFileRouter(): boolean {
  if (fileSchemeHandled()) return false;
  // tfjs's routers answer null for URLs they do not take; its IORouter type leaves that out.
  tf.io.registerSaveRouter(saveRouter as Router);
  tf.io.registerLoadRouter(loadRouter as Router);
  return true;
}
