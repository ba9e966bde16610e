// Command icons draws the extension's toolbar and store icons
// (extension/icons/icon{16,32,48,128}.png): a blue rounded square with a
// dot and two wave arcs to its right, the Doppler effect. Run it from the
// repository root after changing the design; the PNGs are committed.
//
//	go run ./build/icons
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

var (
	bg = color.RGBA{0x0b, 0x57, 0xd0, 0xff}
	fg = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// coverage returns how much of pixel (x, y) lies inside shape, by 4×4
// supersampling, so edges are anti-aliased at every size.
func coverage(x, y int, inside func(u, v float64) bool) float64 {
	n := 0
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			if inside(float64(x)+(float64(i)+0.5)/4, float64(y)+(float64(j)+0.5)/4) {
				n++
			}
		}
	}
	return float64(n) / 16
}

func draw(size int) *image.NRGBA {
	s := float64(size)
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	r := s * 0.22 // corner radius
	square := func(u, v float64) bool {
		cx := math.Max(r, math.Min(s-r, u))
		cy := math.Max(r, math.Min(s-r, v))
		return math.Hypot(u-cx, v-cy) <= r
	}
	// The source dot sits left of centre; the arcs open to the right.
	ox, oy := s*0.34, s*0.5
	dot := func(u, v float64) bool { return math.Hypot(u-ox, v-oy) <= s*0.11 }
	arc := func(radius, width float64) func(u, v float64) bool {
		return func(u, v float64) bool {
			d := math.Hypot(u-ox, v-oy)
			ang := math.Atan2(v-oy, u-ox)
			return math.Abs(d-radius) <= width/2 && math.Abs(ang) <= math.Pi/3.2
		}
	}
	w := math.Max(1.2, s*0.075)
	arcs := []func(u, v float64) bool{arc(s*0.24, w), arc(s*0.40, w)}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			a := coverage(x, y, square)
			if a == 0 {
				continue
			}
			f := coverage(x, y, func(u, v float64) bool {
				if dot(u, v) {
					return true
				}
				for _, in := range arcs {
					if in(u, v) {
						return true
					}
				}
				return false
			})
			mix := func(b, c uint8) uint8 { return uint8(math.Round(float64(b)*(1-f) + float64(c)*f)) }
			img.SetNRGBA(x, y, color.NRGBA{mix(bg.R, fg.R), mix(bg.G, fg.G), mix(bg.B, fg.B), uint8(math.Round(a * 255))})
		}
	}
	return img
}

func main() {
	dir := filepath.Join("extension", "icons")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, size := range []int{16, 32, 48, 128} {
		name := filepath.Join(dir, fmt.Sprintf("icon%d.png", size))
		f, err := os.Create(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := png.Encode(f, draw(size)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(name)
	}
}
