-- Historical OHLCV bars; ts is the open time in epoch ms on the timeframe's UTC grid.
CREATE TABLE candles (
    symbol    text NOT NULL,
    timeframe text NOT NULL,
    ts        bigint NOT NULL,
    open      double precision NOT NULL,
    high      double precision NOT NULL,
    low       double precision NOT NULL,
    close     double precision NOT NULL,
    volume    double precision NOT NULL,
    PRIMARY KEY (symbol, timeframe, ts)
);
