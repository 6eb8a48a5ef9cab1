// The React admin console: the same console as the Vue one, over the same shared logic.
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { addPreviews, deleteFiles, describe, downloadFile, formatBytes, queued, storedFiles, uploadRows } from '../shared/console.js';

const FOLDER = 'react-console';
const STATUS = { pending: '等待', uploading: '上传中', done: '完成', failed: '失败' };

export default function App() {
  // The queue's rows are mutated in place by the shared logic; a counter re-renders.
  const rows = useRef([]);
  const [, rerender] = useReducer((n) => n + 1, 0);
  const [files, setFiles] = useState([]);
  const [percent, setPercent] = useState(0);
  const [error, setError] = useState('');
  const [over, setOver] = useState(false);
  const [copied, setCopied] = useState('');
  const [uploading, setUploading] = useState(false);
  const controller = useRef(null);

  const refresh = useCallback(async () => {
    try {
      setFiles(await storedFiles(FOLDER));
    } catch (e) {
      setError(describe(e));
    }
  }, []);
  useEffect(() => void refresh(), [refresh]);

  const add = (fileList) => {
    rows.current.push(...Array.from(fileList, queued));
    addPreviews(rows.current, rerender);
    rerender();
  };
  const failed = rows.current.filter((r) => r.status === 'failed').length;
  const pending = rows.current.filter((r) => r.status === 'pending').length;

  async function upload() {
    controller.current = new AbortController();
    setUploading(true);
    setError('');
    try {
      await uploadRows(rows.current, FOLDER, controller.current.signal, (p) => {
        setPercent(p);
        rerender();
      });
      const failures = rows.current.filter((r) => r.status === 'failed' && !r.error.startsWith('已取消'));
      if (failures.length) setError(failures.map((r) => `${r.name}: ${r.error}`).join('\n'));
    } catch (e) {
      setError(describe(e));
    } finally {
      controller.current = null;
      setUploading(false);
      await refresh();
    }
  }

  async function act(work) {
    setError('');
    try {
      await work();
    } catch (e) {
      setError(describe(e));
    }
  }

  return (
    <main>
      <h1>文件管理 · React</h1>
      <p className="sub">拖放文件到下方，直传云托管对象存储（本地模拟器）。Drop files to upload them straight to storage.</p>

      <div
        className={over ? 'drop over' : 'drop'}
        onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); add(e.dataTransfer.files); }}
      >
        拖放文件到这里，或{' '}
        <input data-testid="file-input" type="file" multiple onChange={(e) => { add(e.target.files); e.target.value = ''; }} />
      </div>

      <div className="toolbar">
        <button data-testid="upload" className="primary" disabled={uploading || !pending} onClick={upload}>
          上传 {pending} 个文件
        </button>
        <button data-testid="retry" disabled={uploading || !failed} onClick={upload}>重试失败 ({failed})</button>
        <button data-testid="cancel" disabled={!uploading} onClick={() => controller.current?.abort()}>取消</button>
        <div className="bar">
          <progress data-testid="progress" max="100" value={percent} aria-valuenow={percent} aria-label="总进度" />
          {percent}%
        </div>
      </div>

      {error && <pre data-testid="error" className="error" role="alert">{error}</pre>}

      {rows.current.length > 0 && (
        <table>
          <thead><tr><th></th><th>文件</th><th>大小</th><th>进度</th><th>状态</th></tr></thead>
          <tbody>
            {rows.current.map((row) => (
              <tr key={row.id} data-testid="queue-row">
                <td>{row.preview && <img className="thumb" data-testid="queue-preview" src={row.preview} alt="" />}</td>
                <td>{row.name}</td>
                <td>{formatBytes(row.size)}</td>
                <td><progress max="100" value={row.size ? (row.loaded / row.size) * 100 : 100} /></td>
                <td className={row.status === 'done' ? 'ok' : row.status === 'failed' ? 'failed' : ''}>
                  {STATUS[row.status]} {row.error && <span className="muted">{row.error}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>已存储的文件 · Stored files</h2>
      {files.length === 0 ? (
        <p className="muted">还没有文件。</p>
      ) : (
        <table>
          <thead><tr><th></th><th>文件</th><th>File ID</th><th>操作</th></tr></thead>
          <tbody>
            {files.map((file) => (
              <tr key={file.fileId} data-testid="file-row" data-file-id={file.fileId}>
                <td>{file.url && file.type.startsWith('image/') && <img className="thumb" src={file.url} alt="" />}</td>
                <td>
                  {file.name} <span className="muted">{formatBytes(file.size)}</span>
                  {file.missing && <span className="failed">（已不存在）</span>}
                </td>
                <td className="id">{file.fileId}</td>
                <td className="toolbar">
                  <button
                    data-testid="copy-id"
                    onClick={async () => {
                      await navigator.clipboard?.writeText(file.fileId).catch(() => {});
                      setCopied(file.fileId);
                    }}
                  >
                    {copied === file.fileId ? '已复制' : '复制 ID'}
                  </button>
                  {file.url && <a data-testid="temp-link" href={file.url} target="_blank" rel="noreferrer">临时链接</a>}
                  <button data-testid="download" onClick={() => act(() => downloadFile(file.fileId))}>下载</button>
                  <button
                    data-testid="delete"
                    onClick={() => act(async () => { await deleteFiles(FOLDER, [file.fileId]); await refresh(); })}
                  >
                    删除
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
