package web

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strings"
)

// Charts are drawn on the server as SVG: no charting script, nothing
// fetched, readable without JavaScript; each has a title and a text
// alternative for screen readers.

// series is one bar colour of a chart.
type series struct {
	Name   string
	Color  string
	Values []float64
}

// bars draws grouped horizontal bars: one row per label, one bar per series.
func bars(title, unit string, labels []string, ss ...series) template.HTML {
	const rowH, barH, left, width = 26.0, 10.0, 120.0, 520.0
	max := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			max = math.Max(max, v)
		}
	}
	if max == 0 {
		max = 1
	}
	h := rowH*float64(len(labels)) + 30
	var b strings.Builder
	var alt []string
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s">`, left+width+80, h, slug(title))
	fmt.Fprintf(&b, `<title id="%s">%s</title>`, slug(title), template.HTMLEscapeString(title))
	for i, l := range labels {
		y := 20 + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end" class="lbl">%s</text>`, left-6, y+barH, template.HTMLEscapeString(l))
		var parts []string
		for j, s := range ss {
			v := 0.0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			w := width * v / max
			yy := y + float64(j)*barH*1.1 - float64(len(ss)-1)*barH*0.3
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="%.1f" height="%.0f" fill="%s"/>`, left, yy, w, barH, s.Color)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="val">%s</text>`, left+w+4, yy+barH-1, num(v, unit))
			parts = append(parts, fmt.Sprintf("%s %s", s.Name, num(v, unit)))
		}
		alt = append(alt, l+": "+strings.Join(parts, ", "))
	}
	b.WriteString(`</svg>`)
	if len(ss) > 1 {
		b.WriteString(`<p class="legend">`)
		for _, s := range ss {
			fmt.Fprintf(&b, `<span><i style="background:%s"></i>%s</span> `, s.Color, template.HTMLEscapeString(s.Name))
		}
		b.WriteString(`</p>`)
	}
	fmt.Fprintf(&b, `<details><summary>%s as text</summary><p>%s</p></details>`, template.HTMLEscapeString(title), template.HTMLEscapeString(strings.Join(alt, "; ")))
	return template.HTML(b.String())
}

// lorenz draws the Lorenz curve of a distribution (the share of the total
// held by the smallest shares of holders) with its Gini index.
func lorenz(title string, values []float64) (template.HTML, float64) {
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	total := 0.0
	for _, x := range v {
		total += x
	}
	const size = 240.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart lorenz" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s">`, size+40, size+40, slug(title))
	g := gini(v, total)
	fmt.Fprintf(&b, `<title id="%s">%s: Gini %.2f</title>`, slug(title), template.HTMLEscapeString(title), g)
	fmt.Fprintf(&b, `<rect x="20" y="20" width="%.0f" height="%.0f" fill="none" stroke="#98a2b3"/>`, size, size)
	fmt.Fprintf(&b, `<line x1="20" y1="%.0f" x2="%.0f" y2="20" stroke="#98a2b3" stroke-dasharray="4 3"/>`, size+20, size+20)
	pts := []string{fmt.Sprintf("20,%.0f", size+20)}
	cum := 0.0
	for i, x := range v {
		cum += x
		px := 20 + size*float64(i+1)/float64(len(v))
		py := size + 20
		if total > 0 {
			py -= size * cum / total
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#0b5cad" stroke-width="2.5"/>`, strings.Join(pts, " "))
	fmt.Fprintf(&b, `<text x="24" y="38" class="val">Gini %.2f</text></svg>`, g)
	return template.HTML(b.String()), g
}

// gini of sorted values (0: all equal, 1: one holds everything).
func gini(sorted []float64, total float64) float64 {
	n := float64(len(sorted))
	if n == 0 || total == 0 {
		return 0
	}
	s := 0.0
	for i, x := range sorted {
		s += (2*float64(i+1) - n - 1) * x
	}
	return s / (n * total)
}

func num(v float64, unit string) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return fmt.Sprintf("%.0f%s", v, unit)
	}
	return fmt.Sprintf("%.1f%s", v, unit)
}

func slug(s string) string {
	var b strings.Builder
	b.WriteString("c-")
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}
