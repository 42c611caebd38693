// A small document model for the postmortem: headings, paragraphs, bullet lists, tables, code
// blocks and figures, rendered once as Markdown (report.md) and once as self-contained HTML
// (report.html, figures inlined as SVG, a few lines of CSS, no script and no external URL).
//
// Inline markup in text: `code` and **bold**, written as in Markdown; the HTML renderer
// escapes everything else.
#pragma once

#include <string>
#include <vector>

namespace rehearse::reports {

struct Figure {
  std::string title;
  std::string file;     // the SVG file beside report.md
  std::string svg;      // its content, inlined into the HTML
  std::string caption;  // a sentence under it
};

class Document {
 public:
  void heading(int level, std::string text);
  void paragraph(std::string text);
  void bullets(std::vector<std::string> items);
  void table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows);
  void code(std::string text);
  void figure(Figure figure);

  std::string markdown() const;
  std::string html(const std::string& title) const;

 private:
  enum class Kind { heading, paragraph, bullets, table, code, figure };
  struct Block {
    Kind kind = Kind::paragraph;
    int level = 0;
    std::string text;
    std::vector<std::string> items;  // bullets; table header
    std::vector<std::vector<std::string>> rows;
    Figure figure;
  };
  std::vector<Block> blocks_;
};

// HTML of one line of inline markup: escaped, with `code` and **bold** turned into elements.
std::string inline_html(const std::string& text);

}  // namespace rehearse::reports
