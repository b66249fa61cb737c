package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"time"

	"gopkg.in/yaml.v3"

	"medagent/edge/alarm"
	"medagent/sensors"
	"medagent/spool"
	"medagent/watchdog"
)

// Config is the whole configuration. Keys are documented, with their
// defaults, in configs/medagent.example.yaml.
type Config struct {
	Device   Device           `yaml:"device"`
	Spool    Spool            `yaml:"spool"`
	MQTT     MQTT             `yaml:"mqtt"`
	Edge     Edge             `yaml:"edge"`
	Sim      Sim              `yaml:"sim"`
	Sensors  []sensors.Config `yaml:"sensors"`
	Realtime Realtime         `yaml:"realtime"`
	Alarms   alarm.Config     `yaml:"alarms"`
	Update   Update           `yaml:"update"`
	Trust    Trust            `yaml:"trust"`
	Commands Commands         `yaml:"commands"`
	Handoff  Handoff          `yaml:"handoff"`
	Mender   Mender           `yaml:"mender"`
	Watchdog watchdog.Options `yaml:"watchdog"`
	Control  Control          `yaml:"control"`
	EST      EST              `yaml:"est"`
	Log      Log              `yaml:"log"`
}

// Device names this device.
type Device struct {
	ID   string `yaml:"id"`   // serial number; MQTT client id and topic segment
	Type string `yaml:"type"` // device type, matched against update artifacts
}

// Spool configures the store between acquisition and uplink: the spool
// package's own Options (dir, sizes, reader_dir, intervals: their
// defaults and rules are the spool's) and where its data key is.
type Spool struct {
	spool.Options `yaml:",inline"`
	// KeyFile is the AES-256 data key; empty means plaintext (bench only).
	KeyFile string `yaml:"key_file"`
}

// MQTT configures the uplink.
type MQTT struct {
	Broker string `yaml:"broker"` // tls://host:port or ssl://host:port
	// Brokers are the nodes of a clustered broker (with or instead of Broker).
	Brokers    []string      `yaml:"brokers"`
	ServerName string        `yaml:"server_name"`
	CAFile     string        `yaml:"ca_file"`
	CertFile   string        `yaml:"cert_file"`
	KeyFile    string        `yaml:"key_file"`
	Format     string        `yaml:"format"` // json or cbor
	InFlight   int           `yaml:"inflight"`
	KeepAlive  time.Duration `yaml:"keepalive"`
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// BackoffResetAfter: how long a session must last before the backoff restarts.
	BackoffResetAfter    time.Duration `yaml:"backoff_reset_after"`
	MaxConnectsPerMinute int           `yaml:"max_connects_per_minute"`
	ProbeInterval        time.Duration `yaml:"probe_interval"`
	// ConnectTimeout bounds dial and TLS; ConnackTimeout the broker's
	// answer to CONNECT after that (a recovering cluster holds it).
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	ConnackTimeout time.Duration `yaml:"connack_timeout"`
	// FleetSize devices share the cluster, which takes FleetConnectRate
	// connects a second: a returning broker is tried after a wait
	// uniform in [0, FleetSize/FleetConnectRate s) (package uplink).
	FleetSize        int    `yaml:"fleet_size"`
	FleetConnectRate int    `yaml:"fleet_connect_rate"`
	MaxPacketBytes   int    `yaml:"max_packet_bytes"`
	TopicPrefix      string `yaml:"topic_prefix"`
}

// Edge configures the edge stage.
type Edge struct {
	Window time.Duration `yaml:"window"`
	// MainsHz is the ECG mains notch: 0 (off), 50 or 60.
	MainsHz float64 `yaml:"mains_hz"`
	// SpO2CalA and SpO2CalB calibrate SpO2 = A - B*R for the PPG sensor.
	SpO2CalA float64 `yaml:"spo2_cal_a"`
	SpO2CalB float64 `yaml:"spo2_cal_b"`
	// Waveforms lists sensors whose raw samples are published (opt-in),
	// decimated to WaveformRate samples per second.
	Waveforms    []string `yaml:"waveforms"`
	WaveformRate float64  `yaml:"waveform_rate"`
}

// Sim configures the simulated patient behind the sim sensors.
type Sim struct {
	Seed      int64   `yaml:"seed"`
	HeartRate float64 `yaml:"heart_rate"`
	HRVStd    float64 `yaml:"hrv_std"`
	SpO2      float64 `yaml:"spo2"`
	TempC     float64 `yaml:"temp_c"`
	RespRate  float64 `yaml:"resp_rate"`
	NoiseMV   float64 `yaml:"noise_mv"`
	WanderMV  float64 `yaml:"wander_mv"`
	MainsHz   float64 `yaml:"mains_hz"`
	MainsMV   float64 `yaml:"mains_mv"`
	// Changes move the patient's set points over time (to demonstrate alarms).
	Changes []SimChange `yaml:"changes"`
}

// SimChange moves set points of the simulated patient at a time after start,
// reached linearly over Ramp. A zero value leaves that set point alone.
type SimChange struct {
	At        time.Duration `yaml:"at"`
	Ramp      time.Duration `yaml:"ramp"`
	HeartRate float64       `yaml:"heart_rate"`
	SpO2      float64       `yaml:"spo2"`
	TempC     float64       `yaml:"temp_c"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

func defaultSpool() Spool {
	o := spool.DefaultOptions()
	o.Dir = "/var/lib/medagent/spool"
	return Spool{Options: o}
}

// Default returns the configuration used for every key the file leaves out.
func Default() Config {
	return Config{
		Device: Device{ID: "", Type: "medagent-generic"},
		Spool:  defaultSpool(),
		MQTT: MQTT{
			Format:      "json",
			InFlight:    32,
			KeepAlive:   30 * time.Second,
			BackoffMin:  time.Second,
			BackoffMax:  30 * time.Second,
			TopicPrefix: "medagent/v1",
			// Reset, rate limit, probe and packet bound as in package uplink.
			BackoffResetAfter: 10 * time.Second, MaxConnectsPerMinute: 10,
			ProbeInterval: 5 * time.Second, MaxPacketBytes: 256 << 10,
			ConnectTimeout: 10 * time.Second, ConnackTimeout: 30 * time.Second,
			FleetSize: 100, FleetConnectRate: 20,
		},
		Edge:     Edge{Window: time.Second, MainsHz: 50, SpO2CalA: 110, SpO2CalB: 25, WaveformRate: 50},
		Alarms:   alarm.Defaults(),
		Update:   defaultUpdate(),
		Commands: defaultCommands(),
		Handoff:  defaultHandoff(),
		Mender:   defaultMender(),
		Trust:    defaultTrust(),
		EST:      EST{Window: 30 * 24 * time.Hour},
		Sim: Sim{
			Seed: 1, HeartRate: 72, HRVStd: 0.05, SpO2: 97, TempC: 36.8, RespRate: 15,
			NoiseMV: 0.02, WanderMV: 0.1, MainsHz: 50, MainsMV: 0.02,
		},
		Sensors: []sensors.Config{
			// The real drivers on the register-level simulators (a bench
			// build's; a device's configuration names its buses).
			{Name: "ecg", Driver: "ads1292r", Rate: 500, Bus: sensors.SimBus, DRDY: "sim:ads-drdy", SPIMode: 1},
			{Name: "ppg", Driver: "max30102", Rate: 100, Bus: sensors.SimBus, Address: 0x57},
			{Name: "temp", Driver: "tmp117", Rate: 1, Bus: sensors.SimBus, Address: 0x48},
		},
		Realtime: Realtime{Priority: 50, LockMemory: true},
		Log:      Log{Level: "info", Format: "text"},
	}
}

// Load reads and checks the configuration file at path.
func Load(path string) (Config, error) {
	return LoadLayers(path)
}

// LoadLayers reads the configuration file at path and lays each overlay
// over it, in order: an overlay sets only the keys it names (a list, such
// as sensors, is replaced whole; mqtt.broker and mqtt.brokers are one
// setting: naming either replaces both). The product configuration comes with the
// root file system (/etc/medagent/medagent.yaml, replaced by every A/B
// update); per-device settings (device.id, the broker, certificate paths)
// live in an overlay on the data partition, written at provisioning. The
// merged result is checked once; an error names the file that set the key.
func LoadLayers(path string, overlays ...string) (Config, error) {
	docs := make([]Layer, 0, 1+len(overlays))
	for _, p := range append([]string{path}, overlays...) {
		b, err := os.ReadFile(p)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		docs = append(docs, Layer{Name: p, Data: b})
	}
	return ParseLayers(docs...)
}

// Layer is one configuration document and the name used in its errors.
type Layer struct {
	Name string
	Data []byte
}

// Parse decodes and checks a configuration; name is used in errors.
func Parse(name string, b []byte) (Config, error) {
	return ParseLayers(Layer{Name: name, Data: b})
}

// ParseLayers decodes the layers in order over the defaults and checks
// the result (see LoadLayers).
func ParseLayers(layers ...Layer) (Config, error) {
	cfg := Default()
	var ds []*decoder
	for _, l := range layers {
		var root yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(l.Data))
		if err := dec.Decode(&root); err != nil && err.Error() != "EOF" {
			return Config{}, &Error{File: l.Name, Line: yamlLine(err), Msg: "malformed YAML: " + yamlMsg(err)}
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); err == nil {
			return Config{}, &Error{File: l.Name, Line: extra.Line, Msg: "more than one YAML document"}
		}
		d := &decoder{file: l.Name, lines: map[string]int{}, settings: sensorSettings}
		if err := d.decode(&root, reflect.ValueOf(&cfg).Elem(), ""); err != nil {
			return Config{}, err
		}
		oneBrokerSetting(&cfg.MQTT, d)
		ds = append(ds, d)
	}
	if ps := cfg.problems(); len(ps) > 0 {
		// The first problem is reported where the last layer that names
		// the key (or its nearest parent) set it.
		p := ps[0]
		at := ds[0]
		for i := len(ds) - 1; i >= 0; i-- {
			if ds[i].line(p.key) > 0 {
				at = ds[i]
				break
			}
		}
		return Config{}, &Error{File: at.file, Line: at.line(p.key), Key: p.key, Msg: p.msg}
	}
	return cfg, nil
}

// oneBrokerSetting makes mqtt.broker and mqtt.brokers one setting across
// layers: a layer that names either replaces both, so that a device
// configuration giving the site's nodes (or its one broker) never keeps the
// product file's placeholder nodes beside them.
func oneBrokerSetting(m *MQTT, d *decoder) {
	_, one := d.lines["mqtt.broker"]
	_, list := d.lines["mqtt.brokers"]
	switch {
	case one && !list:
		m.Brokers = nil
	case list && !one:
		m.Broker = ""
	}
}

// line finds the line of key, or of its nearest parent present in the file.
func (d *decoder) line(key string) int {
	for k := key; k != ""; k = parent(k) {
		if l, ok := d.lines[k]; ok {
			return l
		}
	}
	return 0
}

func parent(k string) string {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == '.' || k[i] == '[' {
			return k[:i]
		}
	}
	return ""
}
