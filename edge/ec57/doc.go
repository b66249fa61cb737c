// Package ec57 scores a beat detector against reference annotations beat
// by beat, following ANSI/AAMI EC57 (and the WFDB bxb program's
// conventions): reference beats are annotations labelled
// N L R B A a J S V r F e j n E / f Q ?, a detection matches a reference
// beat within ±150 ms, and ventricular flutter/fibrillation episodes (from a
// rhythm annotation "(VFL" to the next rhythm change, and between "[" and
// "]" markers) are excluded from scoring.
//
// By default the whole record is scored. EC57 allows skipping the first
// five minutes as a learning period; Options.Skip does that, and the ECG
// bench reports both.
//
// Reference annotations come from package wfdb; detections from edge/ecg.
package ec57
