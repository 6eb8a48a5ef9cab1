// The H5 demo's page, once for H5 and the mini program: choose a photo → upload it with a
// progress bar and a cancel button → show it by temporary URL → delete it. The same import
// on both: on weapp the Taro plugin resolves it to the mini program build.
import { useRef, useState } from 'react';
import Taro from '@tarojs/taro';
import { Button, Image, Progress, Text, View } from '@tarojs/components';
import init, { AbortController, StorageClient } from 'wx-cloud-storage';
import './index.css';

// `wxcs dev` accepts the demo user; a real app sends its own session.
const ready = init().then(() => new StorageClient({ endpoint: WXCS_ENDPOINT, headers: { Authorization: 'Bearer demo-token' } }));

export default function Index() {
  const [state, setState] = useState({ phase: 'idle', progress: 0, status: '', error: '', fileId: '', url: '' });
  const controller = useRef(null);
  const update = (patch) => setState((current) => ({ ...current, ...patch }));

  async function upload(picked) {
    // H5: the File is `originalFileObj`; weapp: { path, size }. upload() takes both.
    const file = picked.originalFileObj || picked;
    const storage = await ready;
    controller.current = new AbortController();
    update({ phase: 'uploading', progress: 0, status: '上传中…', error: '', fileId: '', url: '' });
    try {
      const extension = ((file.name || picked.path || '').match(/\.\w+$/) || ['.jpg'])[0].toLowerCase();
      const { fileId } = await storage.upload(file, `taro/photo-${Date.now()}${extension}`, {
        signal: controller.current.signal,
        onProgress: ({ loaded, total }) => update({ progress: Math.round((100 * loaded) / total) }),
      });
      const [link] = await storage.getTempFileUrls([fileId]);
      if (!link.ok) throw link.error;
      update({ phase: 'done', status: '完成', fileId, url: link.url });
    } catch (e) {
      const cancelled = e.name === 'AbortError';
      update({ phase: cancelled ? 'cancelled' : 'failed', status: cancelled ? '已取消' : '', error: cancelled ? '' : `${e.code}: ${e.message}` });
    } finally {
      controller.current = null;
    }
  }

  const choose = () => Taro.chooseImage({ count: 1, success: ({ tempFiles }) => upload(tempFiles[0]) });
  const cancel = () => controller.current && controller.current.abort();
  async function remove() {
    const [deleted] = await (await ready).delete([state.fileId]);
    if (!deleted.ok) update({ error: `${deleted.error.code}: ${deleted.error.message}` });
    else update({ phase: 'deleted', status: '已删除', fileId: '', url: '' });
  }

  return (
    <View className="page">
      <Button type="primary" data-testid="choose" disabled={state.phase === 'uploading'} onClick={choose}>选择照片</Button>
      {state.phase === 'uploading' && (
        <View className="row">
          <Progress percent={state.progress} showInfo strokeWidth={8} activeColor="#07c160" data-testid="progress" />
          <Button size="mini" data-testid="cancel" onClick={cancel}>取消</Button>
        </View>
      )}
      <Text data-testid="status">{state.status}</Text>
      {state.error && <Text className="error" data-testid="error">{state.error}</Text>}
      {state.url && (
        <View className="result">
          <Image src={state.url} mode="widthFix" data-testid="result-image" />
          <Text className="id" data-testid="file-id">{state.fileId}</Text>
          <Button size="mini" type="warn" data-testid="delete" onClick={remove}>删除</Button>
        </View>
      )}
    </View>
  );
}
