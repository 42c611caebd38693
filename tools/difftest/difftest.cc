// Differential test: rehearse expression evaluator vs live PostgreSQL.
// Usage: difftest [seed] [cases] [conninfo]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>
#include <pqxx/pqxx>
#include "core/expr.h"
#include "core/value.h"
using namespace rehearse;

static std::mt19937_64 rng;
static int R(int n) { return (int)(rng() % (uint64_t)n); }
static bool P(int pct) { return R(100) < pct; }

static std::string num(int d);
static std::string txt(int d);
static std::string boo(int d);

static std::string intlit() { static const int v[] = {0, 1, 2, 3, 5, 7, 10, 100, 1000, 2147483647, -1, -3, 12, 99999}; return std::to_string(v[R(14)]); }
static std::string declit() { static const char* v[] = {"0.5", "1.25", "12.345", "-2.5", "0.005", "100.00", "3.14159", "-0.49", "2.5", "0.0"}; return v[R(10)]; }
static std::string txtlit() { static const char* v[] = {"'abc'", "'  Hi There  '", "''", "'ÄÖ x'", "'42'", "'3.5'", "'true'", "'MiXeD'", "'a b'", "'-7'"}; return v[R(10)]; }

static std::string num(int d) {
  if (d <= 0 || P(25)) {
    switch (R(7)) { case 0: return "amount"; case 1: return "n"; case 2: return "b"; case 3: return intlit(); case 4: return declit(); case 5: return P(20) ? "NULL" : "n"; default: return "amount"; }
  }
  static const char* ops[] = {"+", "-", "*", "/", "%"};
  static const char* casts[] = {"integer", "bigint", "numeric", "int", "int8", "decimal"};
  switch (R(16)) {
    case 0: case 1: case 2: return "(" + num(d - 1) + " " + ops[R(5)] + " " + num(d - 1) + ")";
    case 3: return "abs(" + num(d - 1) + ")";
    case 4: return P(50) ? "round(" + num(d - 1) + ")" : "round(" + num(d - 1) + ", " + std::to_string(R(5) - 1) + ")";
    case 5: return (P(50) ? "floor(" : "ceil(") + num(d - 1) + ")";
    case 6: return "coalesce(" + num(d - 1) + ", " + num(d - 1) + ")";
    case 7: return "nullif(" + num(d - 1) + ", " + num(d - 1) + ")";
    case 8: return (P(50) ? "greatest(" : "least(") + num(d - 1) + ", " + num(d - 1) + (P(30) ? ", " + num(d - 1) : "") + ")";
    case 9: return "CASE WHEN " + boo(d - 1) + " THEN " + num(d - 1) + " ELSE " + num(d - 1) + " END";
    case 10: return "CAST(" + num(d - 1) + " AS " + casts[R(6)] + ")";
    case 11: return "(" + num(d - 1) + ")::" + casts[R(6)];
    case 12: return "length(" + txt(d - 1) + ")";
    case 13: return "-" + num(d - 1);
    case 14: return "CAST(" + (P(50) ? std::string(txtlit()) : txt(d - 1)) + " AS " + casts[R(6)] + ")";
    default: return "CASE WHEN " + boo(d - 1) + " THEN " + num(d - 1) + " WHEN " + boo(d - 1) + " THEN " + num(d - 1) + " END";
  }
}
static std::string txt(int d) {
  if (d <= 0 || P(25)) return P(50) ? "s" : txtlit();
  switch (R(11)) {
    case 0: return "lower(" + txt(d - 1) + ")";
    case 1: return "upper(" + txt(d - 1) + ")";
    case 2: return "trim(" + txt(d - 1) + ")";
    case 3: return P(50) ? "substr(" + txt(d - 1) + ", " + std::to_string(R(6) - 1) + ")" : "substr(" + txt(d - 1) + ", " + std::to_string(R(5)) + ", " + std::to_string(R(5) - 1) + ")";
    case 4: case 5: return "(" + txt(d - 1) + " || " + (P(60) ? txt(d - 1) : num(d - 1)) + ")";
    case 6: return "CAST(" + num(d - 1) + " AS text)";
    case 7: return "coalesce(" + txt(d - 1) + ", " + txtlit() + ")";
    case 8: return "nullif(" + txt(d - 1) + ", " + txtlit() + ")";
    case 9: return P(50) ? "CAST(t AS text)" : "CAST(" + boo(d - 1) + " AS text)";
    default: return "CASE WHEN " + boo(d - 1) + " THEN " + txt(d - 1) + " ELSE " + txt(d - 1) + " END";
  }
}
static std::string boo(int d) {
  static const char* cmp[] = {"=", "<>", "<", "<=", ">", ">=", "!="};
  if (d <= 0 || P(15)) { switch (R(5)) { case 0: return "flag"; case 1: return "TRUE"; case 2: return "FALSE"; case 3: return "(n > 0)"; default: return "flag"; } }
  switch (R(12)) {
    case 0: case 1: return "(" + num(d - 1) + " " + cmp[R(7)] + " " + num(d - 1) + ")";
    case 2: return "(" + txt(d - 1) + " " + cmp[R(7)] + " " + txt(d - 1) + ")";
    case 3: return "(" + boo(d - 1) + " AND " + boo(d - 1) + ")";
    case 4: return "(" + boo(d - 1) + " OR " + boo(d - 1) + ")";
    case 5: return "NOT " + boo(d - 1);
    case 6: { int k = R(3); std::string x = k == 0 ? num(d - 1) : k == 1 ? txt(d - 1) : boo(d - 1); return "(" + x + (P(50) ? " IS NULL)" : " IS NOT NULL)"); }
    case 7: return "(t " + std::string(cmp[R(6)]) + " CAST('2024-06-01 12:00:00' AS timestamp))";
    case 8: return "CAST(" + std::string(P(50) ? "'true'" : P(50) ? "'f'" : "'yes'") + " AS boolean)";
    case 9: return "coalesce(" + boo(d - 1) + ", " + boo(d - 1) + ")";
    case 10: return "(flag = " + boo(d - 1) + ")";
    default: return "CASE WHEN " + boo(d - 1) + " THEN " + boo(d - 1) + " ELSE " + boo(d - 1) + " END";
  }
}

struct Row { std::map<std::string, Value> v; std::string sql; };

static Row make_row() {
  Row r;
  static const char* amts[] = {"12.50", "0.00", "-3.75", "1234567.89", "0.01", "99.99", "-0.50", "2.50"};
  static const long ns[] = {0, 1, -1, 7, 42, 2147483647, -2147483648L, 100, 3};
  static const long bs[] = {0, 5, -5, 9000000000L, 9223372036854775807L, 123456789012L, 2};
  static const char* ss[] = {"hello", "", "  pad ", "Ünï", "12", "A B C", "1.5", "t"};
  static const char* ts[] = {"2024-01-01 00:00:00", "2024-06-01 12:00:00", "2025-12-31 23:59:59.5", "1999-02-28 08:30:00"};
  std::string a = P(15) ? "" : amts[R(8)];
  long n = ns[R(9)]; bool nn = P(15);
  long b = bs[R(7)]; bool bn = P(15);
  std::string s = P(15) ? "\x01" : ss[R(8)];
  int f = P(15) ? -1 : R(2);
  std::string t = P(15) ? "" : ts[R(4)];
  r.v["amount"] = a.empty() ? Value() : Value::numeric(*decimal::parse(a));
  r.v["n"] = nn ? Value() : Value::integer(n);
  r.v["b"] = bn ? Value() : Value::integer(b);
  r.v["s"] = s == "\x01" ? Value() : Value::text(s);
  r.v["flag"] = f < 0 ? Value() : Value::boolean(f == 1);
  r.v["t"] = t.empty() ? Value() : Value::timestamp(*parse_timestamp(t));
  auto lit = [](bool null, const std::string& x, const char* ty) { return "CAST(" + (null ? std::string("NULL") : "'" + x + "'") + " AS " + ty + ")"; };
  r.sql = "VALUES (" + lit(a.empty(), a, "numeric(12,2)") + ", " + lit(nn, std::to_string(n), "integer") + ", " + lit(bn, std::to_string(b), "bigint") + ", " +
          lit(s == "\x01", s, "text") + ", " + lit(f < 0, f == 1 ? "true" : "false", "boolean") + ", " + lit(t.empty(), t, "timestamp") + ")";
  return r;
}

static std::string norm(const std::string& x) {
  if (x == "true") return "t";
  if (x == "false") return "f";
  return x;
}

int main(int argc, char** argv) {
  uint64_t seed = argc > 1 ? std::stoull(argv[1]) : 1;
  int cases = argc > 2 ? std::stoi(argv[2]) : 20000;
  std::string conn = argc > 3 ? argv[3] : "host=127.0.0.1 port=55432 dbname=app user=postgres";
  rng.seed(seed);
  std::vector<Row> rows; for (int i = 0; i < 64; i++) rows.push_back(make_row());
  pqxx::connection c(conn);
  pqxx::nontransaction tx(c);
  // A temp table (not inline VALUES) so that column values are not plan-time constants.
  tx.exec("CREATE TEMP TABLE r (id integer, amount numeric(12,2), n integer, b bigint, s text, flag boolean, t timestamp)");
  for (size_t k = 0; k < rows.size(); k++) tx.exec("INSERT INTO r SELECT " + std::to_string(k) + ", * FROM (" + rows[k].sql + ") v");
  std::map<std::string, std::pair<int, std::string>> classes;
  int agree = 0, pgval = 0, agree_pgval = 0, exact = 0;
  FILE* dump = std::getenv("DIFFTEST_DUMP") ? std::fopen(std::getenv("DIFFTEST_DUMP"), "w") : nullptr;
  auto note = [&](const std::string& cls, const std::string& ex) {
    auto& e = classes[cls]; if (e.first++ == 0) e.second = ex;
    if (dump) std::fprintf(dump, "[%s]\n      %s\n", cls.c_str(), ex.c_str());
  };
  for (int i = 0; i < cases; i++) {
    int top = R(3);
    int depth = 1 + R(4);
    std::string e = top == 0 ? num(depth) : top == 1 ? txt(depth) : boo(depth);
    int rowid = R((int)rows.size());
    Row& row = rows[rowid];
    // rehearse
    ExprParseError perr; auto ex = parse_expression(e, &perr);
    bool r_err = true, r_null = false; std::string r_txt, r_msg; Value rv;
    if (!ex) r_msg = "parse: " + perr.message + " @" + std::to_string(perr.position) + " '" + perr.token + "'";
    else {
      EvalResult res = evaluate(*ex, [&](const std::string& col) -> const Value* { auto it = row.v.find(col); return it == row.v.end() ? nullptr : &it->second; });
      if (!res.ok) r_msg = res.error; else { r_err = false; rv = res.value; r_null = rv.is_null(); r_txt = rv.to_string(); }
    }
    // PostgreSQL
    bool p_err = false, p_null = false; std::string p_txt, p_msg;
    try {
      auto rs = tx.exec("SELECT (" + e + ")::text FROM r WHERE id = " + std::to_string(rowid));
      if (rs[0][0].is_null()) p_null = true; else p_txt = rs[0][0].c_str();
    } catch (const pqxx::sql_error& err) { p_err = true; p_msg = err.what(); auto nl = p_msg.find('\n'); if (nl != std::string::npos) p_msg.resize(nl); }
    std::string rowdesc = row.sql.substr(7);
    std::string detail = "expr: " + e + "\n      row: " + rowdesc + "\n      rehearse: " + (r_err ? "ERROR " + r_msg : r_null ? "NULL" : r_txt) + "\n      postgres: " + (p_err ? "ERROR " + p_msg : p_null ? "NULL" : p_txt);
    bool ok = false, ex_ok = false;
    if (!p_err && !p_null) pgval++;
    if (p_err && r_err) ok = ex_ok = true;
    else if (p_null && !r_err && r_null) ok = ex_ok = true;
    else if (!p_err && !p_null && !r_err && !r_null) {
      std::string a = norm(r_txt), b = norm(p_txt);
      if (a == b) ok = ex_ok = true;
      else if (rv.kind() == Value::Kind::numeric || rv.kind() == Value::Kind::integer) {
        auto da = decimal::parse(a), db = decimal::parse(b);
        if (da && db && decimal::compare(*da, *db) == 0) { ok = true; note("value equal, numeric scale differs", detail); }
        else note("different value (" + std::string(rv.kind() == Value::Kind::numeric ? "numeric" : "integer") + " result)", detail);
      } else note("different value (" + std::string(rv.kind() == Value::Kind::text ? "text" : rv.kind() == Value::Kind::boolean ? "boolean" : "timestamp") + " result)", detail);
    } else if (r_err && !p_err) {
      note(std::string(ex ? "rehearse eval error, PG ok" : "rehearse parse reject, PG ok") + ": " + (ex ? r_msg.substr(0, 40) : perr.message.substr(0, 40)), detail);
    } else if (p_err && !r_err) {
      std::string m = p_msg.substr(0, p_msg.find('"'));
      if (m.find("invalid input syntax") != std::string::npos) m = "invalid input syntax (cast of a literal)";
      note("PG error, rehearse value: " + m.substr(0, 70), detail);
    } else note("NULL vs non-NULL", detail);
    if (ok) agree++;
    if (ex_ok) exact++;
    if (ok && !p_err && !p_null) agree_pgval++;
  }
  std::printf("seed=%llu cases=%d\nagree (numeric by value)=%d (%.2f%%)  exact text=%d (%.2f%%)\nPG returned a value: %d, agreement there %d (%.2f%%)\n",
              (unsigned long long)seed, cases, agree, 100.0 * agree / cases, exact, 100.0 * exact / cases, pgval, agree_pgval, 100.0 * agree_pgval / pgval);
  std::vector<std::pair<int, std::string>> order; for (auto& [k, v] : classes) order.push_back({v.first, k});
  std::sort(order.rbegin(), order.rend());
  for (auto& [cnt, k] : order) std::printf("\n[%d] %s\n      %s\n", cnt, k.c_str(), classes[k].second.c_str());
}
