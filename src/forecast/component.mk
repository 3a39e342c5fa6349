# src/forecast/component.mk
#	Unit tests and benchmark of the forecasting library (included by the
#	top Makefile).  The library itself is compiled into the extension like
#	every src/*/*.c; here it is built once more, without the server, for the
#	test program and the benchmark.
#
#	make forecast-check		build and run the unit tests (TAP)
#	make forecast-bench		build bench/forecast/bench_forecast
#	make anomaly-bench		build bench/anomaly/nab_detect (bench/anomaly.sh)
#	make horizons-bench		build bench/horizons/backtest_horizons
#							(bench/forecast_horizons.sh)

UNIT_TESTS += src/forecast/test/test_forecast src/forecast/test/test_anomaly \
	src/forecast/test/test_horizons

FORECAST_LIB_SRCS = $(filter-out src/forecast/%_sql.c,$(wildcard src/forecast/*.c))
FORECAST_HDRS = $(wildcard src/forecast/*.h)
FORECAST_CC_FLAGS = -std=c11 -O2 -Wall -Wextra -Werror -Isrc

# one program per test file (tap.h keeps its counters per program)
src/forecast/test/test_%: src/forecast/test/test_%.c src/forecast/test/test_util.h $(FORECAST_LIB_SRCS) $(FORECAST_HDRS) src/core/test/tap.h
	$(CC) $(FORECAST_CC_FLAGS) -o $@ $< $(FORECAST_LIB_SRCS) -lm

bench/forecast/bench_forecast: $(wildcard bench/forecast/*.c) $(FORECAST_LIB_SRCS) $(FORECAST_HDRS)
	$(CC) $(FORECAST_CC_FLAGS) -D_DEFAULT_SOURCE -o $@ $(wildcard bench/forecast/*.c) $(FORECAST_LIB_SRCS) -lm

bench/anomaly/nab_detect: $(wildcard bench/anomaly/*.c) $(FORECAST_LIB_SRCS) $(FORECAST_HDRS)
	$(CC) $(FORECAST_CC_FLAGS) -D_DEFAULT_SOURCE -o $@ $(wildcard bench/anomaly/*.c) $(FORECAST_LIB_SRCS) -lm

bench/horizons/backtest_horizons: $(wildcard bench/horizons/*.c) $(FORECAST_LIB_SRCS) $(FORECAST_HDRS)
	$(CC) $(FORECAST_CC_FLAGS) -D_DEFAULT_SOURCE -o $@ $(wildcard bench/horizons/*.c) $(FORECAST_LIB_SRCS) -lm

.PHONY: forecast-check forecast-bench anomaly-bench horizons-bench
forecast-check: src/forecast/test/test_forecast src/forecast/test/test_anomaly src/forecast/test/test_horizons
	src/forecast/test/test_forecast
	src/forecast/test/test_anomaly
	src/forecast/test/test_horizons

forecast-bench: bench/forecast/bench_forecast

anomaly-bench: bench/anomaly/nab_detect

horizons-bench: bench/horizons/backtest_horizons

EXTRA_CLEAN += src/forecast/test/test_forecast src/forecast/test/test_anomaly src/forecast/test/test_horizons bench/forecast/bench_forecast bench/anomaly/nab_detect \
	bench/horizons/backtest_horizons
