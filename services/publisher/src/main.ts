#!/usr/bin/env node
import { buildPublisher, publisherOptions, runService } from '@freshet/pipeline';

void runService('publisher', 'Publishes the latest vectors (compacted topic) and versioned, chunked snapshots with manifests.', publisherOptions, buildPublisher);
