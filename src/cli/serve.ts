/** `sasa serve`: the web page (classification and attention maps in the browser) with a model, on localhost. */
import type { Command } from 'commander';
import { nonNegativeInt } from './args.js';
import { startWebServer } from './web_server.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the web page with a trained model on localhost: top-5 classes of an image, the attention map of the ' +
        'pixel under the mouse per layer and head, the training curves',
    )
    .requiredOption('--model-dir <dir>', 'a model written by sasa train (<out>/model)')
    .option('--port <n>', 'port (0: any free one)', nonNegativeInt('--port'), 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (flags: { modelDir: string; port: number; host: string }) => {
      const { url } = await startWebServer(flags);
      console.log(`serving ${url} with the model in ${flags.modelDir} (Ctrl-C stops)`);
    });
}
