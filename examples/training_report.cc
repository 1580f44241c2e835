// tapegrad/examples/training_report.cc: progress display, CSV and SVG output.
#include "examples/training_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "absl/strings/str_replace.h"
#include "io/files.h"

namespace tg::examples {

namespace {

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string write_atomically(const std::string& path, const std::string& content) {
  const absl::Status s = io::write_file_atomically(path, content);
  return s.ok() ? "" : std::string(s.message());
}

}  // namespace

Progress::Progress(int epoch, int64_t batches, int64_t batch_size)
    : epoch_(epoch), batches_(batches), batch_size_(batch_size), tty_(isatty(fileno(stdout)) != 0) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t batch, double loss) {
  loss_sum_ += loss;
  ++seen_;
  const bool last = batch + 1 == batches_;
  const double elapsed = since(start_);
  const double rate = elapsed > 0 ? static_cast<double>(seen_ * batch_size_) / elapsed : 0;
  const double eta = seen_ > 0 ? elapsed / seen_ * (batches_ - batch - 1) : 0;
  if (tty_) {
    if (since(last_draw_) < 0.1 && !last) return;
    last_draw_ = std::chrono::steady_clock::now();
    const int width = 30, filled = static_cast<int>(width * (batch + 1) / batches_);
    std::printf("\repoch %d [%s%s] %lld/%lld loss %.4f %.0f img/s ETA %.0fs   ", epoch_,
                std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                static_cast<long long>(batch + 1), static_cast<long long>(batches_), loss_sum_ / seen_, rate, eta);
    std::fflush(stdout);
  } else if ((batch + 1) % std::max<int64_t>(1, batches_ / 10) == 0 && !last) {
    std::printf("epoch %d batch %lld/%lld loss %.4f images_per_s %.0f\n", epoch_, static_cast<long long>(batch + 1),
                static_cast<long long>(batches_), loss_sum_ / seen_, rate);
    std::fflush(stdout);
  }
}

void Progress::finish() {
  if (tty_) std::printf("\r%s\r", std::string(100, ' ').c_str());
}

std::string write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& metrics,
                              const Quality& quality) {
  std::ostringstream os;
  os << "epoch,train_loss," << quality.name << ",seconds\n";
  char line[128];
  for (const EpochMetrics& m : metrics) {
    std::snprintf(line, sizeof line, "%d,%.6f,%.6g,%.2f\n", m.epoch, m.train_loss, m.quality, m.seconds);
    os << line;
  }
  return write_atomically(path, os.str());
}

std::string xml_escaped(const std::string& text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string plot_svg(const std::string& title, const std::vector<EpochMetrics>& metrics, const Quality& quality) {
  const double W = 720, H = 420, left = 70, right = 70, top = 50, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  const int n = static_cast<int>(metrics.size());
  double max_loss = 1e-9, lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& m : metrics) {
    max_loss = std::max(max_loss, m.train_loss);
    lo = std::min(lo, m.quality);
    hi = std::max(hi, m.quality);
  }
  // The quality axis: an accuracy from just below its lowest value to 1; any other metric over
  // its range with a margin.
  if (n == 0) lo = 0, hi = 1;
  if (quality.fraction) {
    lo = std::max(0.0, std::min(0.9, std::floor(lo * 100 - 1) / 100));
    hi = 1.0;
  } else {
    const double margin = std::max(0.1 * (hi - lo), 1e-9 + 0.05 * std::abs(hi));
    lo -= margin;
    hi += margin;
  }
  auto x = [&](int epoch) { return left + (n <= 1 ? pw / 2 : pw * (epoch - 1) / (n - 1)); };
  auto y_loss = [&](double v) { return top + ph * (1 - v / (max_loss * 1.1)); };
  auto y_quality = [&](double v) { return top + ph * (1 - (v - lo) / (hi - lo)); };
  const std::string quality_label = absl::StrReplaceAll(quality.name, {{"_", " "}});
  std::ostringstream os;
  char buf[256];
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << W / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" << xml_escaped(title) << "</text>\n";
  std::snprintf(buf, sizeof buf, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#444\"/>\n",
                left, top, pw, ph);
  os << buf;
  for (int i = 0; i <= 4; ++i) {  // gridlines and both axes' labels
    const double frac = i / 4.0, yy = top + ph * (1 - frac);
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                  "<text x=\"%g\" y=\"%g\" text-anchor=\"end\" fill=\"#c0392b\">%.3f</text>"
                  "<text x=\"%g\" y=\"%g\" fill=\"#2471a3\">%.3f</text>\n",
                  left, yy, left + pw, yy, left - 6, yy + 4, max_loss * 1.1 * frac, left + pw + 6, yy + 4,
                  lo + (hi - lo) * frac);
    os << buf;
  }
  for (const auto& m : metrics) {
    std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%d</text>\n", x(m.epoch), top + ph + 18,
                  m.epoch);
    os << buf;
  }
  os << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 15 << "\" text-anchor=\"middle\">epoch</text>\n";
  os << "<text x=\"18\" y=\"" << top + ph / 2 << "\" fill=\"#c0392b\" transform=\"rotate(-90 18 " << top + ph / 2
     << ")\" text-anchor=\"middle\">train loss</text>\n";
  os << "<text x=\"" << W - 14 << "\" y=\"" << top + ph / 2 << "\" fill=\"#2471a3\" transform=\"rotate(90 " << W - 14
     << " " << top + ph / 2 << ")\" text-anchor=\"middle\">" << xml_escaped(quality_label) << "</text>\n";
  for (int series = 0; series < 2; ++series) {
    const char* color = series == 0 ? "#c0392b" : "#2471a3";
    os << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"";
    for (const auto& m : metrics) {
      std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x(m.epoch), series == 0 ? y_loss(m.train_loss) : y_quality(m.quality));
      os << buf;
    }
    os << "\"/>\n";
    for (const auto& m : metrics) {
      std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>epoch %d: %s %.4f</title></circle>\n",
                    x(m.epoch), series == 0 ? y_loss(m.train_loss) : y_quality(m.quality), color, m.epoch,
                    series == 0 ? "train loss" : xml_escaped(quality_label).c_str(),
                    series == 0 ? m.train_loss : m.quality);
      os << buf;
    }
  }
  os << "</svg>\n";
  return os.str();
}

std::string write_plot_svg(const std::string& path, const std::string& title, const std::vector<EpochMetrics>& metrics,
                           const Quality& quality) {
  return write_atomically(path, plot_svg(title, metrics, quality));
}

}  // namespace tg::examples
