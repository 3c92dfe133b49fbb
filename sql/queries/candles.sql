-- name: upsert-candles^
-- Write one batch of candles of one market (ts strictly increasing, no duplicates).
-- A row whose values are all equal to the stored ones is left alone (no new tuple,
-- no WAL), so re-importing a file changes nothing; the counts tell inserted rows
-- from rows whose values changed.  xmax = 0 marks a freshly inserted tuple.
WITH written AS (
    INSERT INTO candles AS stored (symbol, timeframe, ts, open, high, low, close, volume)
    SELECT :symbol, :timeframe, c.ts, c.open, c.high, c.low, c.close, c.volume
    FROM unnest(:tss::bigint[], :opens::float8[], :highs::float8[], :lows::float8[],
                :closes::float8[], :volumes::float8[])
         AS c(ts, open, high, low, close, volume)
    ON CONFLICT (symbol, timeframe, ts) DO UPDATE
    SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
        close = EXCLUDED.close, volume = EXCLUDED.volume
    WHERE (stored.open, stored.high, stored.low, stored.close, stored.volume)
          IS DISTINCT FROM
          (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)
    RETURNING (stored.xmax = 0) AS inserted, stored.ts
)
SELECT count(*) FILTER (WHERE inserted) AS inserted,
       count(*) FILTER (WHERE NOT inserted) AS updated,
       min(ts) AS first_written_ts,
       max(ts) AS last_written_ts
FROM written;

-- name: count-live-sessions-over$
-- Sessions that are (or may again be) replaying candles of [:first_ts, :last_ts]: a
-- resumed runner reloads its candles, so changing them would change its log.
-- :timeframes is the written timeframe and every coarser one made from it.
SELECT count(*) FROM sim_sessions
WHERE symbol = :symbol AND timeframe = ANY(:timeframes::text[])
  AND status IN ('created', 'running', 'paused')
  AND start_ms <= :last_ts AND end_ms > :first_ts;

-- name: select-candles
-- The candles of one market with start_ms <= ts < end_ms in ts order, at most
-- :max_rows of them (NULL: all).
SELECT ts, open, high, low, close, volume
FROM candles
WHERE symbol = :symbol AND timeframe = :timeframe AND ts >= :start_ms AND ts < :end_ms
ORDER BY ts
LIMIT :max_rows;

-- name: select-stored-timeframes
-- Which of :timeframes hold at least one candle of the market in [:start_ms, :end_ms)
-- (one index probe each).
SELECT t.timeframe
FROM unnest(:timeframes::text[]) AS t(timeframe)
WHERE EXISTS (SELECT 1 FROM candles c
              WHERE c.symbol = :symbol AND c.timeframe = t.timeframe
                AND c.ts >= :start_ms AND c.ts < :end_ms);

-- name: select-markets
-- Every stored market: first and last open time and the number of candles.
SELECT symbol, timeframe, min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS count
FROM candles
GROUP BY symbol, timeframe
ORDER BY symbol, timeframe;

-- name: select-market^
-- One market's first and last open time and candle count (no row: no candles).
SELECT min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS count
FROM candles
WHERE symbol = :symbol AND timeframe = :timeframe
HAVING count(*) > 0;

-- name: create-import-staging!
-- A streamed import's rows land here first, in the import's transaction, so a file
-- of any size is checked whole (repeats) before one candle changes: all or nothing.
CREATE TEMP TABLE candle_import_staging (
    line bigint NOT NULL,
    ts bigint NOT NULL,
    open float8 NOT NULL,
    high float8 NOT NULL,
    low float8 NOT NULL,
    close float8 NOT NULL,
    volume float8 NOT NULL
) ON COMMIT DROP;

-- name: stage-import-rows!
-- One batch of valid rows of a streamed import, with their line numbers.
INSERT INTO candle_import_staging (line, ts, open, high, low, close, volume)
SELECT * FROM unnest(:lines::bigint[], :tss::bigint[], :opens::float8[], :highs::float8[],
                     :lows::float8[], :closes::float8[], :volumes::float8[]);

-- name: select-staged-repeats
-- Rows that repeat an earlier line's open time with other values: the line, the
-- open time and the first line of that open time, first :max_rows by line.
WITH firsts AS (
    SELECT DISTINCT ON (ts) ts, line, open, high, low, close, volume
    FROM candle_import_staging
    ORDER BY ts, line
)
SELECT s.line, s.ts, f.line AS first_line, count(*) OVER () AS total
FROM candle_import_staging s JOIN firsts f USING (ts)
WHERE s.line <> f.line
  AND (s.open, s.high, s.low, s.close, s.volume)
      IS DISTINCT FROM (f.open, f.high, f.low, f.close, f.volume)
ORDER BY s.line
LIMIT :max_rows;

-- name: merge-staged-candles^
-- Upsert the distinct staged rows into the market (same rule as upsert-candles: an
-- identical row is left alone) and count what happened.
WITH distinct_rows AS MATERIALIZED (
    SELECT DISTINCT ON (ts) ts, open, high, low, close, volume
    FROM candle_import_staging
    ORDER BY ts, line
), written AS (
    INSERT INTO candles AS stored (symbol, timeframe, ts, open, high, low, close, volume)
    SELECT :symbol, :timeframe, ts, open, high, low, close, volume FROM distinct_rows
    ON CONFLICT (symbol, timeframe, ts) DO UPDATE
    SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
        close = EXCLUDED.close, volume = EXCLUDED.volume
    WHERE (stored.open, stored.high, stored.low, stored.close, stored.volume)
          IS DISTINCT FROM
          (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume)
    RETURNING (stored.xmax = 0) AS inserted, stored.ts
)
SELECT (SELECT count(*) FROM distinct_rows) AS total,
       (SELECT min(ts) FROM distinct_rows) AS first_ts,
       (SELECT max(ts) FROM distinct_rows) AS last_ts,
       count(*) FILTER (WHERE inserted) AS inserted,
       count(*) FILTER (WHERE NOT inserted) AS updated,
       min(ts) AS first_written_ts,
       max(ts) AS last_written_ts
FROM written;
