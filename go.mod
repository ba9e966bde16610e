module github.com/doppler-engine/doppler

go 1.26.0

require (
	github.com/ardanlabs/jinja v1.8.0 // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/chromedp/chromedp v0.23.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/hack-pad/hackpadfs v0.2.4 // indirect
	github.com/hack-pad/safejs v0.1.1 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/text v0.21.0 // indirect
)
