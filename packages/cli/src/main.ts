import { Command, CommanderError, Option } from 'commander';
import { benchCommand } from './commands/bench.js';
import { evalCommand } from './commands/eval.js';
import { generateCommand } from './commands/generate.js';
import { kvHeadsCommand } from './commands/kv-heads.js';
import { listCommand } from './commands/list.js';
import { maskCommand } from './commands/mask.js';
import { searchCommand } from './commands/search.js';
import { trainGateCommand } from './commands/train-gate.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { WORKLOAD_HELP } from './workload-spec.js';

export interface MainIo {
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Runs the `sparseland` command line (`argv` as in process.argv) and resolves to the exit code. */
export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const out = io.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  const err = io.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  let code: number = EXIT.ok;
  const program = new Command('sparseland')
    .description('Sparse attention: list methods, draw masks, evaluate methods on real models and long inputs, run benchmarks.')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) });
  const plugin = new Option('--plugin <module>', 'also load the plugins a module exports (repeatable)').argParser(collect);

  program
    .command('list')
    .description('list installed plugins with their summaries and papers')
    .option('--kind <kind>', 'only pattern, estimator, backend or kv-policy')
    .option('--json', 'print JSON')
    .addOption(plugin)
    .action(async (options) => listCommand(options, out));

  program
    .command('mask')
    .description("build a method's mask for an n × n causal call; print its density and picture, or write SVG / PNG")
    .argument('<method>', 'a pattern or estimator name')
    .option('--params <json>', 'method parameters, e.g. \'{"window": 128}\'')
    .option('--n <length>', 'sequence length (e.g. 1024 or 4k)', '256')
    .option('--heads <count>', 'query heads', '1')
    .option('--head <index>', 'head to draw', '0')
    .option('--svg <file>', 'write an SVG picture')
    .option('--png <file>', 'write a PNG picture')
    .option('--level <level>', 'auto, element or block', 'auto')
    .option('--seed <seed>', 'seed of the synthetic input estimators look at', '0')
    .option('--backend <name>', 'backend for estimators: auto, cpu or reference', 'auto')
    .option('--json', 'print JSON')
    .addOption(plugin)
    .action(async (method, options) => maskCommand(method, options, out));

  program
    .command('eval')
    .description('measure methods against dense attention: recall, output error, needles, FLOPs, time; NLL on real models')
    .option('--methods <list>', 'comma-separated methods (default: dense,sliding-window,a-shape,tri-shape on real models)')
    .option('--workload <list>', `comma-separated: ${WORKLOAD_HELP}`, 'tinybooks')
    .option('--positions <n>', 'tokens of model text (default: the trained context, 2048 tinybooks / 512 stories)')
    .option('--offset <chars>', 'character offset into the text')
    .option('--density <fraction>', "set each method's budget so its mask keeps this fraction of the causal pairs", '0.25')
    .option('--no-density', 'run methods with their own parameters (--params, else defaults)')
    .option('--params <json>', 'parameters: {"method": {...}} (or {...} with one method)')
    .option('--rows <n|all>', 'query rows measured per layer (default: all up to a memory budget)')
    .option('--sweep', 'run each method across its budget parameter and plot density vs recall (with --out)')
    .option('--lengths <list>', 'with --sweep: also time methods at these lengths and plot speed vs length')
    .option('--out <dir>', 'write report.json, report.txt and SVG plots there')
    .option('--json', 'print the report as JSON on stdout')
    .option('--backend <name>', 'auto, cpu or reference', 'auto')
    .option('--no-end-to-end', 'skip the end-to-end NLL run on real models')
    .option('--greedy <tokens>', 'greedy tokens compared end to end (default 32)')
    .option('--seed <seed>', 'seed for synthetic inputs and row sampling', '0')
    .option('--heads', 'also print per-head tables')
    .option('--kv <list>', 'compare KV policies against the full cache instead (e.g. streaming-llm,h2o,quest)')
    .option('--kv-budget <list>', 'with --kv: budgets, fractions of the prompt or token counts (e.g. 0.1,0.25,0.5)')
    .option('--kv-params <json>', 'with --kv: policy parameters, {...} or {"policy": {...}}')
    .option('--recipe <file>', 'with --kv: also a recipe file naming per-layer / per-head KV policies')
    .option('--continuation <tokens>', 'with --kv: teacher-forced tokens whose NLL is compared (default 64)')
    .addOption(plugin)
    .action(async (options) => evalCommand(options, out));

  program
    .command('generate')
    .description('stream a continuation under a KV policy, with a progress line showing the cache bytes held')
    .argument('[prompt...]', 'prompt text (default: a passage of --text)')
    .option('--model <name>', 'tinybooks or stories', 'tinybooks')
    .option('--text <name>', 'prompt from an embedded text: tinyshakespeare or pride-and-prejudice')
    .option('--offset <chars>', 'character offset of the prompt passage (default: the held-out tail of tinyshakespeare)')
    .option('--prompt-tokens <n>', "tokens of the prompt passage (default: the model's trained context)")
    .option('--max-tokens <n>', 'tokens to generate', '128')
    .option('--kv <policy>', 'KV policy (see `sparseland list --kind kv-policy`; default: the full cache)')
    .option('--kv-budget <budget>', 'fraction of the prompt in (0, 1) or a token count')
    .option('--kv-params <json>', 'policy parameters')
    .option('--recipe <file>', 'a recipe naming per-layer / per-head KV policies instead of --kv')
    .option('--temperature <t>', '0 is greedy', '0')
    .option('--seed <seed>', 'sampling seed', '0')
    .option('--backend <name>', 'auto, cpu or reference', 'auto')
    .option('--json', 'print the tokens, text and bytes as JSON instead of streaming')
    .addOption(plugin)
    .action(async (prompt, options) => generateCommand(prompt, options, out));

  program
    .command('kv-heads')
    .description("split a model's kv heads into retrieval and streaming heads on pass-key prompts (DuoAttention); write the recipe")
    .option('--model <name>', 'tinybooks or stories', 'tinybooks')
    .option('--prompts <n>', 'pass-key prompts', '4')
    .option('--streaming <fraction>', 'share of kv heads made streaming, lowest retrieval mass first', '0.5')
    .option('--sink <tokens>', 'first tokens a streaming head keeps', '128')
    .option('--recent <tokens>', 'newest tokens a streaming head keeps', '256')
    .option('--out <file>', 'write the recipe JSON there')
    .option('--json', 'print scores, heads and recipe as JSON')
    .option('--backend <name>', 'auto, cpu or reference', 'auto')
    .option('--seed <seed>', 'seed of the pass keys and filler', '0')
    .action(async (options) => kvHeadsCommand(options, out));

  program
    .command('train-gate')
    .description(
      "train a learned gate (SeerAttention, Sparsifiner, DMA) on a fixture model's traces; write HDF5 weights and the loss curve",
    )
    .option('--model <name>', 'tinybooks-2k or stories260K', 'tinybooks-2k')
    .option('--kind <kind>', 'seer-attention, sparsifiner or dma', 'seer-attention')
    .option('--texts <list>', 'fixture texts to train on', 'pride-and-prejudice,tinyshakespeare')
    .option('--windows <n>', 'training windows in all, spread over the texts', '32')
    .option('--validation <n>', 'held-out windows for early stopping (other passages of the same texts)', '4')
    .option('--positions <n>', 'tokens per window', '2048')
    .option('--hidden <n>', 'gate width (SeerAttention hidden, default 128; Sparsifiner rank, default 16)')
    .option('--epochs <n>', 'most epochs', '30')
    .option('--lr <rate>', 'peak learning rate (warm-up, cosine decay)', '0.001')
    .option('--batch <n>', 'samples per step', '4')
    .option('--patience <n>', 'epochs without a better held-out loss before stopping', '3')
    .option('--seed <seed>', 'seeds the initial weights and the data order', '0')
    .requiredOption('--out <file>', 'weights file to write (HDF5)')
    .option('--loss-svg <file>', 'loss curve (default: next to --out)')
    .option('--backend <name>', 'auto, cpu or reference (tracing and distillation)', 'auto')
    .option('--json', 'print a JSON summary')
    .action(async (options) => trainGateCommand(options, out));

  program
    .command('search')
    .description('offline per-head search: calibrate candidate methods on traces, write the best per-layer/per-head recipe under a budget')
    .option('--workload <spec>', `calibration traces: ${WORKLOAD_HELP}`, 'tinybooks')
    .option('--positions <n>', 'tokens of model text (default: the trained context)')
    .option('--offset <chars>', 'character offset of the calibration passage')
    .option('--budget <fraction>', 'mean density over all heads the recipe may keep', '0.2')
    .option('--methods <list>', 'only these methods of the default candidate grid (e.g. vertical-slash,block-topk)')
    .option('--candidates <json>', 'candidate list instead of the default grid: [{"method": ..., "params": {...}}, ...]')
    .option('--blocks <QxK>', 'block sizes of the recipe', '64x64')
    .option('--objective <name>', 'recall or output-error', 'recall')
    .option('--cost <name>', 'what the budget counts: density or flops (density + estimation)', 'density')
    .option('--rows <n>', 'query rows measured per layer (default: all up to a memory budget)')
    .option('--out <file>', 'write the recipe JSON there')
    .option('--json', 'print the recipe, summary and per-head choices as JSON')
    .option('--backend <name>', 'auto, cpu or reference', 'auto')
    .option('--seed <seed>', 'seed for synthetic traces and row sampling', '0')
    .addOption(plugin)
    .action(async (options) => searchCommand(options, out));

  program
    .command('bench')
    .description("run the CPU backend's benchmark suite (extra arguments go to it)")
    .option('--size <size>', 'smoke or full', 'full')
    .argument('[args...]', 'passed to the benchmark')
    .allowUnknownOption(true)
    .action(async (args, options) => {
      code = await benchCommand(args, options, out);
    });

  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; unknown commands or options are usage errors (commander printed the message).
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    err(`sparseland: ${(error as Error).message}`);
    return exitCodeOf(error);
  }
}
