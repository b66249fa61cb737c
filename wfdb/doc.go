// Package wfdb reads PhysioNet WFDB records: the .hea header, .dat signal
// files in formats 212 and 16, and .atr/MIT-format annotation files.
//
// It is written from the public WFDB specification (the header(5),
// signal(5) and annot(5) manual pages of the WFDB Software Package,
// https://physionet.org/physiotools/wag/). Data comes from record files on
// disk (excerpts of the MIT-BIH Arrhythmia and Noise Stress Test databases
// in testdata/physionet, the full databases for the benchmarks) and goes
// to the ECG detector, the EC57
// scorer and the replay command.
//
// Everything here decodes outside bytes, so it fails closed: a truncated or
// corrupt file, an unsupported format or a checksum mismatch is an error that
// names the file and what is wrong, never a panic and never silent data.
// The writers (WriteRecord, WriteAnnotationFile) make the excerpts and the
// spliced test records; they refuse values a format cannot hold.
// The signal reader decodes frames into caller-owned slices without
// allocating per frame. Invalid-sample markers (-2048 in format 212, -32768
// in format 16) are reported as invalid, not as numbers.
package wfdb
