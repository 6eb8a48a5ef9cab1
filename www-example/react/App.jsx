// The React admin console on Ant Design, signed in as the demo's ordinary user: it manages
// that user's own folder (users/{uid}/react-console/). <Upload> uploads through the
// package's adapter (wx-cloud-storage/antd), with its own list, progress, remove and error
// tooltips; the console adds previews, cancel and retry, and the stored files as the
// backend lists them (pages, a name filter) with copy ID, temporary link, download and delete.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Alert, Button, Image, Input, Progress, Space, Table, Typography, Upload, message } from 'antd';
import { InboxOutlined } from '@ant-design/icons';
import { antdUpload } from 'wx-cloud-storage/antd';
import { deleteFiles, describe, downloadFile, failureText, filePages, formatBytes, overallPercent, pathIn, preview } from '../shared/console.js';

// A bare path goes into the user's own folder (users/{uid}/react-console/…).
const FOLDER = 'react-console/';

export default function App({ storage, user }) {
  const [queue, setQueue] = useState([]); // the component's file list (controlled)
  const [files, setFiles] = useState([]);
  const [listing, setListing] = useState({ page: 0, hasPrev: false, hasNext: false });
  const [filter, setFilter] = useState('');
  const pages = useMemo(() => filePages(`users/${user.uid}/${FOLDER}`), [user]);
  const [error, setError] = useState('');
  const [copied, setCopied] = useState('');
  // Each upload's abort handle, for "cancel all" (the component's own remove aborts one).
  const inFlight = useRef(new Map());

  // Files are uploaded as they are picked: the adapter does it, 3 at a time.
  const adapter = useMemo(() => antdUpload(storage, { path: pathIn(FOLDER) }), [storage]);
  const customRequest = useCallback((request) => {
    const handle = adapter({
      ...request,
      onSuccess: (result) => {
        inFlight.current.delete(request.file.uid);
        request.onSuccess(result);
        show(pages.first(filter));
      },
      onError: (err, response) => {
        inFlight.current.delete(request.file.uid);
        request.onError(err, response);
      },
    });
    inFlight.current.set(request.file.uid, handle);
    return handle;
  }, [adapter, pages, filter]);

  // Shows a page of the listing.
  const show = useCallback(async (loading) => {
    try {
      const { rows, ...where } = await loading;
      setFiles(rows);
      setListing(where);
    } catch (e) {
      setError(describe(e));
    }
  }, []);
  useEffect(() => void show(pages.first()), [show, pages]);

  const update = (uid, change) => setQueue((list) => list.map((f) => (f.uid === uid ? { ...f, ...change } : f)));
  // Retry: the same request again for each failed file, reported into the same list items.
  function retry() {
    for (const file of queue.filter((f) => f.status === 'error')) {
      update(file.uid, { status: 'uploading', percent: 0, error: undefined, response: undefined });
      customRequest({
        file: file.originFileObj,
        onProgress: ({ percent }) => update(file.uid, { percent }),
        onSuccess: (response) => update(file.uid, { status: 'done', percent: 100, response }),
        onError: (err, response) => update(file.uid, { status: 'error', error: err, response }),
      });
    }
  }

  const failed = queue.filter((f) => f.status === 'error');
  const uploading = queue.some((f) => f.status === 'uploading');
  const percent = overallPercent(queue.map((f) => ({
    size: f.size, percent: f.percent, state: f.status === 'done' ? 'done' : f.status === 'uploading' ? 'sending' : '',
  })));
  const failureMessage = failureText(failed);

  async function act(work) {
    setError('');
    try {
      await work();
    } catch (e) {
      setError(describe(e));
    }
  }

  const columns = [
    {
      key: 'preview', width: 72,
      render: (_, row) => row.url && row.contentType?.startsWith('image/') && <Image className="thumb" src={row.url} width={48} height={48} />,
    },
    {
      title: '文件', key: 'name',
      render: (_, row) => (
        <>
          <span data-testid="file-name">{row.name}</span> <span className="muted">{formatBytes(row.size)}</span>
        </>
      ),
    },
    { title: 'File ID', key: 'id', render: (_, row) => <code className="id" data-testid="file-id">{row.fileId}</code> },
    {
      title: '操作', key: 'actions', width: 300,
      render: (_, row) => (
        <Space size="small" wrap>
          <Button
            data-testid="copy-id" size="small"
            onClick={async () => {
              await navigator.clipboard?.writeText(row.fileId).catch(() => {});
              setCopied(row.fileId);
              message.success('已复制 File ID');
            }}
          >
            {copied === row.fileId ? '已复制' : '复制 ID'}
          </Button>
          {row.url && <Typography.Link data-testid="temp-link" href={row.url} target="_blank" rel="noreferrer">临时链接</Typography.Link>}
          <Button data-testid="download" size="small" onClick={() => act(() => downloadFile(row.fileId))}>下载</Button>
          <Button
            data-testid="delete" size="small" danger
            onClick={() => act(async () => { await deleteFiles([row.fileId]); await show(pages.reload()); })}
          >
            删除
          </Button>
        </Space>
      ),
    },
  ];

  return (
    <main>
      <h1>文件管理 · React + Ant Design</h1>
      <p className="sub">拖放文件到下方，直传云托管对象存储（本地模拟器）。Drop files to upload them straight to storage.</p>
      <p className="sub" data-testid="signed-in">已登录 · signed in as <b>{user.uid}</b> ({user.roles.join(', ') || '无角色 · no roles'})</p>

      <Upload.Dragger
        data-testid="file-input"
        multiple
        listType="picture"
        fileList={queue}
        onChange={({ file, fileList }) => {
          // The preview is an object URL (previewFile below): freed with its item.
          if (file.status === 'removed' && file.thumbUrl?.startsWith('blob:')) URL.revokeObjectURL(file.thumbUrl);
          setQueue(fileList);
        }}
        customRequest={customRequest}
        previewFile={preview}
      >
        <p className="ant-upload-drag-icon"><InboxOutlined /></p>
        <p className="ant-upload-text">拖放文件到这里，或点击选择</p>
      </Upload.Dragger>

      <div className="toolbar">
        <Button data-testid="retry" disabled={!failed.length} onClick={retry}>重试失败 ({failed.length})</Button>
        <Button data-testid="cancel" disabled={!uploading} onClick={() => inFlight.current.forEach((h) => h.abort())}>全部取消</Button>
        <Progress data-testid="progress" className="bar" percent={percent} aria-label="总进度" />
      </div>

      {failureMessage && <Alert data-testid="error" type="error" showIcon title={<pre className="alert-text">{failureMessage}</pre>} />}
      {error && <Alert data-testid="action-error" type="error" showIcon title={error} />}

      <h2>已存储的文件 · Stored files</h2>
      <div className="toolbar">
        <Input.Search
          data-testid="filter" className="filter" placeholder="按名称筛选 · filter by name" allowClear
          value={filter} onChange={(e) => setFilter(e.target.value)} onSearch={(name) => show(pages.first(name))}
        />
      </div>
      <Table
        rowKey="fileId" columns={columns} dataSource={files} pagination={false}
        locale={{ emptyText: '还没有文件。' }}
      />
      <div className="pager">
        <Button data-testid="prev-page" size="small" disabled={!listing.hasPrev} onClick={() => show(pages.prev())}>上一页</Button>
        <span data-testid="page">第 {listing.page + 1} 页</span>
        <Button data-testid="next-page" size="small" disabled={!listing.hasNext} onClick={() => show(pages.next())}>下一页</Button>
      </div>
    </main>
  );
}
