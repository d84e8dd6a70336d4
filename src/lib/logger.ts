import SonicBoom from 'sonic-boom';
import winston from 'winston';
import Transport from 'winston-transport';
import type { Config } from './config';

const SECRET_KEY_PATTERN = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|credential/i;
const BEARER_PATTERN = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const JWT_PATTERN = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
export const REDACTED = '[REDACTED]';

/** Returns a copy of a log value with secrets (by key name, bearer credentials and JWTs in strings) replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(BEARER_PATTERN, `$1 ${REDACTED}`).replace(JWT_PATTERN, REDACTED);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message, depth + 1), stack: redact(value.stack, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY_PATTERN.test(k) && v !== undefined && v !== null ? REDACTED : redact(v, depth + 1);
  }
  return out;
}

// Winston keeps its level and message under symbol keys, so only enumerable string keys are rewritten.
const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    info[key] = key === 'level' ? info[key] : SECRET_KEY_PATTERN.test(key) ? REDACTED : redact(info[key]);
  }
  return info;
});

const MESSAGE = Symbol.for('message');

/**
 * Writes formatted lines to standard output through sonic-boom: asynchronously, and lines logged while a write is
 * in flight go out together in the next one. winston's Console transport makes one synchronous write system call
 * per line, which cost a loaded server more CPU than the request it logged. Flushed synchronously at exit.
 */
export class StdoutTransport extends Transport {
  private static destination: SonicBoom | undefined;
  private static pending = '';
  private static scheduled = false;
  // Lines logged in one turn of the event loop leave in one write: a write per line costs a thread-pool round trip.
  private static readonly flush = () => {
    StdoutTransport.scheduled = false;
    const lines = StdoutTransport.pending;
    StdoutTransport.pending = '';
    if (lines) StdoutTransport.destination?.write(lines);
  };
  private readonly out: SonicBoom;
  constructor() {
    super();
    if (!StdoutTransport.destination) {
      const destination = new SonicBoom({ fd: 1, sync: false });
      process.once('exit', () => {
        StdoutTransport.flush();
        destination.flushSync();
      });
      StdoutTransport.destination = destination;
    }
    this.out = StdoutTransport.destination;
  }
  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    StdoutTransport.pending += `${String(info[MESSAGE])}\n`;
    if (!StdoutTransport.scheduled) {
      StdoutTransport.scheduled = true;
      setImmediate(StdoutTransport.flush);
    }
    next();
  }
}

/**
 * Creates the process logger: JSON lines in production, readable lines in development. `viaWinston` sends the request
 * lines through winston too (see logRequest), where tracing's instrumentation adds the trace id to them.
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  transports: winston.transport[] = [new StdoutTransport()],
  options: { viaWinston?: boolean } = {},
): winston.Logger {
  const format =
    config.logFormat === 'json'
      ? winston.format.combine(
          redactFormat(),
          winston.format.timestamp(),
          winston.format.errors({ stack: true }),
          winston.format.json(),
        )
      : winston.format.combine(
          redactFormat(),
          winston.format.timestamp(),
          winston.format.colorize(),
          winston.format.printf(({ level, message, timestamp, ...meta }) => {
            const rest = Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
            return `${String(timestamp)} ${level}: ${String(message)}${rest}`;
          }),
        );
  const logger = winston.createLogger({ level: config.logLevel, format, transports });
  if (config.logFormat === 'json' && !options.viaWinston) jsonLoggers.add(logger);
  return logger;
}

/** The fields of the one line logged per request. */
export type RequestLine = {
  request_id: string;
  method: string;
  route: string;
  operation_id: string | undefined;
  status: number;
  duration_ms: number;
  user_id: number | undefined;
};

const LEVEL = Symbol.for('level');
const jsonLoggers = new WeakSet<winston.Logger>();
const done = () => undefined;

/**
 * Logs the line of one finished request. A JSON logger's line is formatted here, the same line its format chain
 * would write (redacted, timestamped, keys sorted), and handed to each transport: winston's streams and formats
 * cost a trivial request about a tenth of its CPU. Other loggers, or transports with formats of their own, go
 * through winston as usual.
 */
export function logRequest(logger: winston.Logger, level: 'info' | 'warn' | 'error', line: RequestLine): void {
  if (!jsonLoggers.has(logger) || logger.transports.some((t) => t.format !== undefined)) {
    logger.log(level, 'request', line);
    return;
  }
  const levels = logger.levels;
  const rank = levels[level] ?? 0;
  if ((levels[logger.level] ?? -1) < rank) return;
  // The method is one of the few Node's parser accepts and the operation id is the spec's: neither needs redacting.
  const requestId = redact(line.request_id) as string;
  const route = redact(line.route) as string;
  const timestamp = new Date().toISOString();
  const message =
    `{"duration_ms":${JSON.stringify(line.duration_ms)},"level":"${level}","message":"request",` +
    `"method":${JSON.stringify(line.method)}` +
    (line.operation_id === undefined ? '' : `,"operation_id":${JSON.stringify(line.operation_id)}`) +
    `,"request_id":${JSON.stringify(requestId)},"route":${JSON.stringify(route)},"status":${line.status},` +
    `"timestamp":"${timestamp}"` +
    (line.user_id === undefined ? '' : `,"user_id":${JSON.stringify(line.user_id)}`) +
    '}';
  // Built field by field, symbols assigned after: a spread, or symbol keys in the literal, leave V8 a slow
  // dictionary-mode object and cost ~10 µs per line, more than all the rest of the line.
  const info: Record<string | symbol, unknown> = {
    duration_ms: line.duration_ms,
    level,
    message: 'request',
    method: line.method,
    operation_id: line.operation_id,
    request_id: requestId,
    route,
    status: line.status,
    timestamp,
    user_id: line.user_id,
  };
  info[LEVEL] = level;
  info[MESSAGE] = message;
  for (const transport of logger.transports) {
    if (transport.silent || (levels[transport.level ?? logger.level] ?? -1) < rank) continue;
    transport.log?.(info, done);
  }
}

export type Logger = winston.Logger;
