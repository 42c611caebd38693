// The Markdown and HTML renderers of reports/document.h.
#include "reports/document.h"

#include <fmt/format.h>

#include "reports/graphviz.h"
#include "reports/text.h"

namespace rehearse::reports {

namespace {

const char* const kStyle = R"css(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; }
h2 { border-bottom: 1px solid #eee; padding-bottom: .2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .8em 0; font-size: 92%; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code, pre { font-family: Menlo, Consolas, monospace; background: #f5f5f5; border-radius: 3px; }
code { padding: 0 .25em; }
pre { padding: .7em 1em; overflow-x: auto; }
figure { margin: 1.2em 0; overflow-x: auto; border: 1px solid #eee; padding: .5em; }
figure svg { display: block; margin: 0 auto; max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 90%; margin-top: .4em; }
)css";

std::string slug(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const bool alphanumeric = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alphanumeric) out += c;
    if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
    if ((c == ' ' || c == '-') && !out.empty() && out.back() != '-') out += '-';
  }
  return out;
}

std::string table_cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::string out = "|";
  std::string rule = "|";
  for (const std::string& cell : header) {
    out += " " + table_cell(cell) + " |";
    rule += "---|";
  }
  out += "\n" + rule + "\n";
  for (const auto& row : rows) {
    out += "|";
    for (const std::string& cell : row) out += " " + table_cell(cell) + " |";
    out += "\n";
  }
  return out;
}

std::string html_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::string out = "<table>\n<thead><tr>";
  for (const std::string& cell : header) out += "<th>" + inline_html(cell) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const std::string& cell : row) out += "<td>" + inline_html(cell) + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace

std::string inline_html(const std::string& text) {
  std::string out;
  bool in_code = false;
  bool in_bold = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '`') {
      out += in_code ? "</code>" : "<code>";
      in_code = !in_code;
    } else if (!in_code && text.compare(i, 2, "**") == 0) {
      out += in_bold ? "</strong>" : "<strong>";
      in_bold = !in_bold;
      ++i;
    } else {
      out += xml_escape(std::string(1, text[i]));
    }
  }
  if (in_code) out += "</code>";
  if (in_bold) out += "</strong>";
  return out;
}

void Document::heading(int level, std::string text) { blocks_.push_back(Block{Kind::heading, level, std::move(text)}); }
void Document::paragraph(std::string text) { blocks_.push_back(Block{Kind::paragraph, 0, std::move(text)}); }
void Document::bullets(std::vector<std::string> items) { blocks_.push_back(Block{Kind::bullets, 0, "", std::move(items)}); }
void Document::code(std::string text) { blocks_.push_back(Block{Kind::code, 0, std::move(text)}); }

void Document::table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
  blocks_.push_back(Block{Kind::table, 0, "", std::move(header), std::move(rows)});
}

void Document::figure(Figure figure) {
  Block block{Kind::figure};
  block.figure = std::move(figure);
  blocks_.push_back(std::move(block));
}

std::string Document::markdown() const {
  std::string out;
  for (const Block& block : blocks_) {
    switch (block.kind) {
      case Kind::heading: out += std::string(static_cast<std::size_t>(block.level), '#') + " " + block.text + "\n\n"; break;
      case Kind::paragraph: out += block.text + "\n\n"; break;
      case Kind::bullets:
        for (const std::string& item : block.items) out += "- " + item + "\n";
        out += "\n";
        break;
      case Kind::table: out += markdown_table(block.items, block.rows) + "\n"; break;
      case Kind::code: out += "```sh\n" + block.text + "\n```\n\n"; break;
      case Kind::figure:
        out += fmt::format("![{}]({})\n\n*{}* {}\n\n", block.figure.title, block.figure.file, block.figure.title,
                           block.figure.caption);
        break;
    }
  }
  return out;
}

std::string Document::html(const std::string& title) const {
  std::string out = fmt::format("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
                                "<style>{}</style>\n</head>\n<body>\n",
                                xml_escape(title), kStyle);
  for (const Block& block : blocks_) {
    switch (block.kind) {
      case Kind::heading:
        out += fmt::format("<h{0} id=\"{1}\">{2}</h{0}>\n", block.level, slug(block.text), inline_html(block.text));
        break;
      case Kind::paragraph: out += "<p>" + inline_html(block.text) + "</p>\n"; break;
      case Kind::bullets:
        out += "<ul>\n";
        for (const std::string& item : block.items) out += "<li>" + inline_html(item) + "</li>\n";
        out += "</ul>\n";
        break;
      case Kind::table: out += html_table(block.items, block.rows); break;
      case Kind::code: out += "<pre><code>" + xml_escape(block.text) + "</code></pre>\n"; break;
      case Kind::figure:
        out += fmt::format("<figure id=\"{}\">\n{}\n<figcaption><strong>{}</strong> ({}) {}</figcaption>\n</figure>\n",
                           slug(block.figure.file), inline_svg(block.figure.svg), inline_html(block.figure.title),
                           xml_escape(block.figure.file), inline_html(block.figure.caption));
        break;
    }
  }
  return out + "</body>\n</html>\n";
}

}  // namespace rehearse::reports
