// @kvmlab/series-tools: read Linux patch series from an mbox/patchwork export, keep them as
// package metadata (series.json), check that metadata, and write the changelog history.
export { splitMbox, isFromLine, type RawMessage, type SplitResult } from './mbox/split-mbox.js';
export { parseMessage, type MailMessage, type Mailbox, type ParsedMessage } from './mbox/parse-message.js';
export { formatDiagnostic, hasErrors, type Diagnostic, type Severity } from './mbox/diagnostic.js';
export { parseSubject, type SubjectTags, type SubjectParse } from './cover/subject.js';
export { parseVersionHistory, type VersionStep } from './cover/version-history.js';
export { parseShortlog, type PatchEntry, type Shortlog } from './cover/shortlog.js';
export { parseDiffstat, expandRename, type Diffstat, type DiffstatFile, type Rename } from './cover/diffstat.js';
export { classifyMessage, type CoverLetter, type PatchMail, type Classified } from './cover/cover-letter.js';
export { readSeries, type SeriesFile } from './read-series.js';
export { recordFromCover, seriesSlug, diffstatPaths, type SeriesRecord } from './metadata/series-record.js';
export { parsePackageMeta, type PackageSeriesMeta, type ModelRef, type MetaParse } from './metadata/package-meta.js';
export { diffJson, type FieldDiff } from './metadata/diff.js';
export { checkWorkspace, type CheckOptions, type CheckReport, type Claim } from './check/check.js';
export { FEATURE_PACKAGES, DEFAULT_MBOX, findRepoRoot, listPackages } from './check/workspace.js';
export { renderSeriesHistory, BLOCK_START, BLOCK_END } from './changelog/series-history.js';
export { upsertSeriesHistory } from './changelog/update-changelog.js';
export { main } from './cli-main.js';
