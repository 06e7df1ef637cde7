#!/usr/bin/env node
import { buildIngest, ingestOptions, runService } from '@freshet/pipeline';

void runService('ingest', 'Validates and normalises raw image-label and text-window events; forwards training records, dead-letters bad ones.', ingestOptions, buildIngest);
