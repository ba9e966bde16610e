package gpu

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Errors of Open, for callers that explain them to users (error code
// "no-webgpu" in the extension protocol).
var (
	// ErrNoWebGPU: the JS environment has no navigator.gpu.
	ErrNoWebGPU = errors.New("WebGPU is not available here (navigator.gpu is missing): use a browser with WebGPU enabled, or run under build/wasm-exec")
	// ErrNoAdapter: navigator.gpu.requestAdapter() returned null.
	ErrNoAdapter = errors.New("WebGPU found no GPU adapter (requestAdapter returned null): check that the GPU is not blocklisted, or start Chromium with --enable-unsafe-webgpu")
)

// Well-known optional features the engine uses when the adapter offers them.
const (
	FeatureShaderF16 = "shader-f16"
	FeatureSubgroups = "subgroups"
	// FeatureTimestampQuery times passes on the GPU (bench --profile, roofline).
	FeatureTimestampQuery = "timestamp-query"
)

// AdapterInfo is GPUAdapterInfo plus isFallbackAdapter.
type AdapterInfo struct {
	Vendor            string `json:"vendor"`
	Architecture      string `json:"architecture"`
	Device            string `json:"device"`
	Description       string `json:"description"`
	IsFallbackAdapter bool   `json:"isFallbackAdapter"`
	SubgroupMinSize   int    `json:"subgroupMinSize,omitempty"`
	SubgroupMaxSize   int    `json:"subgroupMaxSize,omitempty"`
}

// Info describes an opened device: the adapter behind it, the features that
// were enabled on the device and the device's limits.
type Info struct {
	Adapter  AdapterInfo       `json:"adapter"`
	Features []string          `json:"features"`
	Limits   map[string]uint64 `json:"limits"`
	// LanguageFeatures are the WGSL language extensions the implementation
	// offers (navigator.gpu.wgslLanguageFeatures).
	LanguageFeatures []string `json:"wgslLanguageFeatures,omitempty"`
}

// LanguagePacked4x8 is the WGSL extension of dot4I8Packed and friends.
const LanguagePacked4x8 = "packed_4x8_integer_dot_product"

// HasLanguageFeature reports whether WGSL offers the extension name.
func (i *Info) HasLanguageFeature(name string) bool { return slices.Contains(i.LanguageFeatures, name) }

// HasFeature reports whether the device has feature name enabled.
func (i *Info) HasFeature(name string) bool {
	for _, f := range i.Features {
		if f == name {
			return true
		}
	}
	return false
}

// Limit returns the named limit, 0 when unknown.
func (i *Info) Limit(name string) uint64 { return i.Limits[name] }

// LimitNames are the WebGPU limits read from the adapter and the device.
var LimitNames = []string{
	"maxTextureDimension1D", "maxTextureDimension2D", "maxTextureDimension3D", "maxTextureArrayLayers",
	"maxBindGroups", "maxBindGroupsPlusVertexBuffers", "maxBindingsPerBindGroup",
	"maxDynamicUniformBuffersPerPipelineLayout", "maxDynamicStorageBuffersPerPipelineLayout",
	"maxSampledTexturesPerShaderStage", "maxSamplersPerShaderStage",
	"maxStorageBuffersPerShaderStage", "maxStorageTexturesPerShaderStage", "maxUniformBuffersPerShaderStage",
	"maxUniformBufferBindingSize", "maxStorageBufferBindingSize",
	"minUniformBufferOffsetAlignment", "minStorageBufferOffsetAlignment",
	"maxVertexBuffers", "maxBufferSize", "maxVertexAttributes", "maxVertexBufferArrayStride",
	"maxInterStageShaderVariables", "maxColorAttachments", "maxColorAttachmentBytesPerSample",
	"maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup",
	"maxComputeWorkgroupSizeX", "maxComputeWorkgroupSizeY", "maxComputeWorkgroupSizeZ",
	"maxComputeWorkgroupsPerDimension",
}

// ComputeLimits are the limits a model needs as large as the adapter allows;
// Open requests the adapter's values for them (the defaults are far lower,
// e.g. 128 MiB storage bindings and 16 KiB workgroup storage).
var ComputeLimits = []string{
	"maxBufferSize", "maxStorageBufferBindingSize", "maxUniformBufferBindingSize",
	"maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup",
	"maxComputeWorkgroupSizeX", "maxComputeWorkgroupSizeY", "maxComputeWorkgroupSizeZ",
	"maxComputeWorkgroupsPerDimension", "maxStorageBuffersPerShaderStage",
	"maxUniformBuffersPerShaderStage", "maxBindGroups", "maxBindingsPerBindGroup",
}

// sortedKeys returns m's keys in order (stable output for tests and JSON).
func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// String is a short human summary.
func (i *Info) String() string {
	a := i.Adapter
	s := fmt.Sprintf("%s %s %s (%s)", a.Vendor, a.Architecture, a.Device, a.Description)
	if a.IsFallbackAdapter {
		s += " [fallback]"
	}
	return fmt.Sprintf("%s; features %v; %d limits", s, i.Features, len(sortedKeys(i.Limits)))
}

// BufferUsage is a GPUBufferUsage bit set.
type BufferUsage uint32

// GPUBufferUsage flags (WebGPU spec values).
const (
	UsageMapRead      BufferUsage = 0x0001
	UsageMapWrite     BufferUsage = 0x0002
	UsageCopySrc      BufferUsage = 0x0004
	UsageCopyDst      BufferUsage = 0x0008
	UsageIndex        BufferUsage = 0x0010
	UsageVertex       BufferUsage = 0x0020
	UsageUniform      BufferUsage = 0x0040
	UsageStorage      BufferUsage = 0x0080
	UsageIndirect     BufferUsage = 0x0100
	UsageQueryResolve BufferUsage = 0x0200
)

// BindingType is the kind of buffer binding in a bind group layout.
type BindingType int

// Buffer binding types of compute bind group layouts.
const (
	Uniform         BindingType = iota // var<uniform>
	Storage                            // var<storage, read_write>
	ReadOnlyStorage                    // var<storage, read>
)

// jsName is the GPUBufferBindingType string.
func (b BindingType) jsName() string {
	switch b {
	case Uniform:
		return "uniform"
	case Storage:
		return "storage"
	case ReadOnlyStorage:
		return "read-only-storage"
	}
	panic(fmt.Sprintf("gpu: unknown BindingType %d", int(b)))
}

// Grid splits a 1D launch of n invocations in workgroups of size wg into
// (x, y) workgroup counts with x ≤ maxPerDim, for kernels that linearize
// their index as gid.x + gid.y * x * wg. Some invocations may lie past n:
// kernels must bounds-check.
func Grid(n, wg, maxPerDim uint32) (x, y uint32) {
	if n == 0 {
		return 0, 0
	}
	groups := (uint64(n) + uint64(wg) - 1) / uint64(wg)
	if groups <= uint64(maxPerDim) {
		return uint32(groups), 1
	}
	y64 := (groups + uint64(maxPerDim) - 1) / uint64(maxPerDim)
	x64 := (groups + y64 - 1) / y64
	return uint32(x64), uint32(y64)
}

// AlignUp rounds n up to a multiple of a (a power of two or any positive a).
func AlignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

func sortStrings(s []string) { sort.Strings(s) }
