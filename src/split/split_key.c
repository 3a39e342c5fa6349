/*-------------------------------------------------------------------------
 *
 * split_key.c
 *	  Which column of a table the parts are cut on (see split_key.h).
 *
 * A key must be totally ordered by its type's default btree operator
 * class, so that "key < c" and "key >= c" are complementary for every
 * non-null value and the parts' ranges are a partition; and its values
 * must survive the text of the parts' SQL exactly (written with the
 * deparser's settings: every digit of a float, ISO dates, an explicit
 * offset for timestamptz).  The allowed types are listed below; money
 * (its text follows lc_monetary) and types without a total order are not.
 * Domains over them are keys too, compared as their base type.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "split/split_key.h"

static bool
type_supported(Oid basetype)
{
	switch (basetype)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
		case UUIDOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
		case BOOLOID:
		case OIDOID:
		case BYTEAOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
		case PG_LSNOID:
			return true;
		default:
			return type_is_enum(basetype);
	}
}

bool
split_key_describe(Oid relid, AttrNumber attnum, SplitKey *key, const char **why)
{
	HeapTuple	tup;
	Form_pg_attribute att;
	Oid			basetype;
	Oid			opclass;
	Oid			opcintype;

	memset(key, 0, sizeof(SplitKey));
	if (attnum <= 0)
	{
		*why = "a system column cannot be a split key";
		return false;
	}
	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	if (!HeapTupleIsValid(tup))
	{
		*why = "the column does not exist";
		return false;
	}
	att = (Form_pg_attribute) GETSTRUCT(tup);
	key->relid = relid;
	key->attnum = attnum;
	key->attname = pstrdup(NameStr(att->attname));
	key->notnull = att->attnotnull;
	key->atttype = att->atttypid;
	key->atttypmod = att->atttypmod;
	key->collation = att->attcollation;
	if (att->attisdropped)
		*why = "the column was dropped";
	else if (att->attgenerated != '\0')
		*why = "a generated column cannot be a split key";
	else
		*why = NULL;
	ReleaseSysCache(tup);
	if (*why != NULL)
		return false;

	basetype = getBaseType(key->atttype);
	if (!type_supported(basetype) ||
		!OidIsValid(opclass = GetDefaultOpClass(basetype, BTREE_AM_OID)))
	{
		*why = psprintf("type %s is not a split key type (integers, numeric, floats, dates and times, uuid, text, enums, ...)",
						format_type_be(key->atttype));
		return false;
	}
	key->opfamily = get_opclass_family(opclass);
	opcintype = get_opclass_input_type(opclass);
	/* enums: the operator class takes anyenum, the cut points are of the enum */
	key->cmptype = IsPolymorphicType(opcintype) ? basetype : opcintype;
	key->lt_opr = get_opfamily_member(key->opfamily, opcintype, opcintype, BTLessStrategyNumber);
	key->ge_opr = get_opfamily_member(key->opfamily, opcintype, opcintype,
									  BTGreaterEqualStrategyNumber);
	key->cmp_proc = get_opfamily_proc(key->opfamily, opcintype, opcintype, BTORDER_PROC);
	if (!OidIsValid(key->lt_opr) || !OidIsValid(key->ge_opr) || !OidIsValid(key->cmp_proc))
	{
		*why = psprintf("the btree operator family of type %s lacks < or >=",
						format_type_be(key->atttype));
		return false;
	}
	if (!type_is_collatable(key->cmptype))
		key->collation = InvalidOid;
	return true;
}

char *
split_key_declared(Oid relid)
{
	Oid			nsp = get_namespace_oid("foresight", true);
	Oid			tableid;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData skey;
	HeapTuple	tup;
	Snapshot	snapshot;
	char	   *column = NULL;

	if (!OidIsValid(nsp) || !OidIsValid(tableid = get_relname_relid(SPLIT_KEY_TABLE, nsp)))
		return NULL;
	/* a setting: the latest declaration, this transaction's own included */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	rel = table_open(tableid, AccessShareLock);
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 1, &skey);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 2, RelationGetDescr(rel), &isnull);

		if (!isnull)
			column = pstrdup(NameStr(*DatumGetName(d)));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	UnregisterSnapshot(snapshot);
	return column;
}

/* the first column of an index, when it can give the table its split key */
static bool
index_gives_key(Relation rel, Oid indexoid, bool primary, SplitKey *key, const char **why)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index index;
	bool		usable;

	if (!HeapTupleIsValid(tup))
		return false;
	index = (Form_pg_index) GETSTRUCT(tup);
	usable = (primary ? index->indisprimary : index->indisunique && !index->indisprimary) &&
		index->indisvalid && index->indnkeyatts > 0 &&
		heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
		heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
	for (int i = 0; usable && i < index->indnkeyatts; i++)
	{
		AttrNumber	a = index->indkey.values[i];

		usable = a > 0 && TupleDescAttr(RelationGetDescr(rel), a - 1)->attnotnull;
	}
	if (usable)
	{
		usable = split_key_describe(RelationGetRelid(rel), index->indkey.values[0], key, why);
		if (usable)
		{
			key->source = primary ? "primary key" :
				psprintf("unique index %s", quote_identifier(get_rel_name(indexoid)));
			key->unique = index->indnkeyatts == 1 && index->indimmediate;
		}
	}
	ReleaseSysCache(tup);
	return usable;
}

bool
split_key_choose(Oid relid, SplitKey *key, const char **why)
{
	char	   *declared = split_key_declared(relid);
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;
	bool		found = false;
	const char *index_why = NULL;

	if (declared != NULL)
	{
		AttrNumber	attnum = get_attnum(relid, declared);

		if (attnum == InvalidAttrNumber)
			*why = "the column does not exist";
		else if (split_key_describe(relid, attnum, key, why))
		{
			key->source = "declared";
			return true;
		}
		*why = psprintf("the split key declared for %s, column %s, is not usable: %s",
						get_rel_name(relid), quote_identifier(declared), *why);
		return false;
	}

	rel = table_open(relid, AccessShareLock);
	indexes = RelationGetIndexList(rel);
	for (int pass = 0; pass < 2 && !found; pass++)
		foreach(lc, indexes)
		{
			const char *w = NULL;

			if (index_gives_key(rel, lfirst_oid(lc), pass == 0, key, &w))
			{
				found = true;
				break;
			}
			if (w != NULL && index_why == NULL)
				index_why = w;
		}
	table_close(rel, AccessShareLock);
	if (!found)
		*why = psprintf("table %s has no primary key or unique index on non-null columns whose first column can be a split key%s%s (declare one with foresight.set_split_key)",
						get_rel_name(relid), index_why ? ": " : "", index_why ? index_why : "");
	return found;
}

Expr *
split_key_expr(const SplitKey *key, Index rti)
{
	Expr	   *var = (Expr *) makeVar(rti, key->attnum, key->atttype, key->atttypmod,
									   key->collation, 0);

	/* a domain, varchar, cidr: compared as the operator class's type */
	if (key->atttype != key->cmptype)
		var = (Expr *) makeRelabelType(var, key->cmptype, -1, key->collation,
									   COERCE_IMPLICIT_CAST);
	return var;
}
