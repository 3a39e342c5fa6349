/* pg_foresight 0.8 -> 0.9 */
\echo Use "ALTER EXTENSION pg_foresight UPDATE TO '0.9'" to load this file. \quit

-- #17: parts of a split aggregate run an aggregate whose result is its
-- transition state (no final function, a state type that is neither
-- internal nor polymorphic: count, sum of integers, min, max, bool_and...)
-- as it is, and the coordinator combines their results with the
-- aggregate's combine function, from its initial value: no partial_agg
-- wrapper on the nodes, no serialised state.  Everyone may use it, as
-- partial_agg: it runs an aggregate's combine function only if the caller
-- may execute the aggregate, and only on values of its state type.
CREATE FUNCTION foresight.combine_results_transfn(internal, regprocedure, anyelement)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'foresight_combine_results_transfn'
	LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION foresight.combine_results_finalfn(internal, regprocedure, anyelement)
	RETURNS anyelement
	AS 'MODULE_PATHNAME', 'foresight_combine_results_finalfn'
	LANGUAGE C PARALLEL SAFE;
CREATE AGGREGATE foresight.combine_results(aggregate regprocedure, result anyelement) (
	SFUNC = foresight.combine_results_transfn,
	STYPE = internal,
	FINALFUNC = foresight.combine_results_finalfn,
	FINALFUNC_EXTRA,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE foresight.combine_results(regprocedure, anyelement) IS
	'Results of an aggregate whose result is its state (no final function), combined by its combine function';
